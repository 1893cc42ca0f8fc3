"""Audited write services: every write to the registry goes through one of these."""

from ._core import SYSTEM, Actor, Audit, begin_change, load_actor, open_change_set

__all__ = ["SYSTEM", "Actor", "Audit", "begin_change", "load_actor", "open_change_set"]
