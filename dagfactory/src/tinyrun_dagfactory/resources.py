"""Task resources: Kubernetes quantities, checked once, converted exactly for Docker.

Pipelines write ``cpu`` and ``memory`` the way Kubernetes does (``500m``, ``2``, ``512Mi``, ``1G``).
Kubernetes gets the text as written; Docker gets the same limits as integers: memory in bytes and
CPU as a hard limit in nano-CPUs (``NanoCpus``, a CFS quota), never a relative weight.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

# Kubernetes quantity syntax (resource.Quantity), without a sign: a decimal number, then a binary
# suffix, a decimal SI suffix or a decimal exponent.
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
_QUANTITY = re.compile(QUANTITY_PATTERN)
_SUFFIX = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
NANO_PER_MILLI = 10**6


def _quantity(text: str) -> tuple[Fraction, str]:
    """(exact value, suffix) of a Kubernetes quantity; ValueError when it is not one."""
    m = _QUANTITY.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 1Gi)")
    number, suffix = m.group(1), m.group(3) or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return Fraction(number) * Fraction(10) ** int(suffix[1:]), suffix
    return Fraction(number) * _SUFFIX[suffix], suffix


@lru_cache(maxsize=256, typed=True)  # a handful of distinct values per datakit; Fraction is slow
def cpu_millis(value: str | int | float) -> int:
    """CPU in thousandths of a core (Kubernetes' precision); ValueError with the fix."""
    text = repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, bool):
        raise ValueError("cpu must be a number of cores (e.g. 2, 0.5) or millicores (e.g. 500m)")
    cores, _ = _quantity(text)
    millis = cores * 1000
    if millis.denominator != 1:
        raise ValueError(f"cpu {text!r} is finer than Kubernetes' 1m precision")
    if millis <= 0:
        raise ValueError(f"cpu {text!r} must be more than 0")
    return int(millis)


@lru_cache(maxsize=256, typed=True)
def memory_bytes(value: str | int) -> int:
    """Memory in bytes; ValueError with the fix (``512m`` is milli-bytes to Kubernetes: refused)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("memory must be a Kubernetes quantity in bytes (e.g. 512Mi, 1Gi, 1500M)")
    text = str(value)
    amount, suffix = _quantity(text)
    if suffix in ("m", "u", "n"):
        number = text[: -len(suffix)]
        raise ValueError(
            f"memory {text!r} is ambiguous: to Kubernetes {suffix!r} means a fraction of a byte. "
            f"Write {number}Mi (mebibytes) or {number}M (megabytes)"
        )
    if amount.denominator != 1:
        raise ValueError(f"memory {text!r} is not a whole number of bytes")
    if amount <= 0:
        raise ValueError(f"memory {text!r} must be more than 0")
    return int(amount)


def docker_limits(resources: dict[str, str]) -> dict[str, int]:
    """DockerOperator limits for checked resources: ``mem_limit`` in bytes, ``nano_cpus``."""
    out: dict[str, int] = {}
    if resources.get("memory"):
        out["mem_limit"] = memory_bytes(resources["memory"])
    if resources.get("cpu"):
        out["nano_cpus"] = cpu_millis(resources["cpu"]) * NANO_PER_MILLI
    return out
