"""Typed errors raised by services; each message names the field and the value concerned."""

from __future__ import annotations

from typing import Any


class PanopticumError(Exception):
    """Base of every error the data layer raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class NotFound(PanopticumError):
    """An unknown reference: ``field`` names what was looked up, ``value`` what was given."""

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(f"{field}: no such {field.replace('_', ' ')} {value!r}", field=field, value=value)


class DuplicateName(PanopticumError):
    def __init__(self, field: str, value: Any) -> None:
        super().__init__(
            f"{field}: {value!r} already exists (names are unique, ignoring case)", field=field, value=value
        )


class InvalidValue(PanopticumError):
    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(f"{field}: {value!r} {reason}", field=field, value=value)
        self.reason = reason


class InUse(PanopticumError):
    """A reference row cannot be deleted while other rows point at it."""

    def __init__(self, field: str, value: Any, used_by: str) -> None:
        super().__init__(f"{field}: {value!r} is still used by {used_by}", field=field, value=value)
        self.used_by = used_by


class PermissionDenied(PanopticumError):
    def __init__(self, actor: str, action: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(f"{actor} may not {action}", field=field, value=value)
        self.actor = actor
        self.action = action


class StaleWrite(PanopticumError):
    """Someone saved the row since it was read: ``expected`` is the row version the caller saw."""

    def __init__(self, entity: str, entity_id: Any, expected: int | None, actual: int | None) -> None:
        super().__init__(
            f"{entity} {entity_id!r} was changed by someone else since it was loaded "
            f"(row_version {expected} was read, it is now {actual}); reload and apply your change again",
            field="row_version",
            value=expected,
        )
        self.entity = entity
        self.entity_id = entity_id
        self.expected = expected
        self.actual = actual
