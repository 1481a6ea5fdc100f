"""tinyrun DAG factory: YAML pipeline files -> Airflow DAGs running tinyrun runner images.

Public API: :func:`load_dags` (for a dags/ loader file), :func:`parse_file` and
:func:`validate_paths` (no Airflow import needed), :class:`PipelineError`.
"""

from __future__ import annotations

from .errors import PipelineError, PipelineFileError
from .loader import load_dags
from .pipelines import parse_file, validate_paths

__version__ = "0.1.0"
__all__ = ["PipelineError", "PipelineFileError", "__version__", "load_dags", "parse_file", "validate_paths"]
