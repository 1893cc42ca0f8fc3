"""Demo data: ``load_demo`` (a realistic registry for trying Panopticum out) and ``generate_scale``
(a synthetic registry of N components for benchmarks). Both write only into a registry without
components and are deterministic (fixed seed, fixed base date ``BASE_DATE``)."""

from ._common import BASE_DATE, Progress, RegistryNotEmpty, component_count, registry_counts
from .catalog import DEMO_LOGINS
from .loader import LoadResult, load_demo
from .scale import ScaleResult, generate_scale

__all__ = [
    "BASE_DATE",
    "DEMO_LOGINS",
    "LoadResult",
    "Progress",
    "RegistryNotEmpty",
    "ScaleResult",
    "component_count",
    "generate_scale",
    "load_demo",
    "registry_counts",
]
