"""Panopticum's data layer: models, set-based reads as DataFrames, audited write services, scores.

In a notebook::

    import panopticum_data
    reg = panopticum_data.connect("sqlite:///panopticum.db")
    reg.overview()            # one row per component with scores and set statuses
"""

from .queries.overview import OverviewFilters
from .registry import Registry, connect

__all__ = ["OverviewFilters", "Registry", "connect"]
