"""Entry point of `python -m tinyrun_dagfactory` (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
