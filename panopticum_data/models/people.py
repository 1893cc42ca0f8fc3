"""People, groups and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..enums import ACCESS_ROLES
from .base import NAME_LENGTH, Base, Timestamped, Versioned, enum, unique_ci, utcnow


class Person(Versioned, Timestamped, Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(NAME_LENGTH))
    first_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    last_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    email: Mapped[str | None] = mapped_column(String(256))
    title: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    office_phone: Mapped[str | None] = mapped_column(String(64))
    mobile_phone: Mapped[str | None] = mapped_column(String(64))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    info: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    job_role_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_role.id", ondelete="RESTRICT"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    employee_number: Mapped[str | None] = mapped_column(String(64))
    directory_guid: Mapped[str | None] = mapped_column(String(64), unique=True)
    directory_dn: Mapped[str | None] = mapped_column(String(1024))
    access_role: Mapped[str] = mapped_column(enum("access_role", ACCESS_ROLES), default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or self.username


unique_ci(Person.username)


class PersonGroup(Base):
    """A group of people (from the directory or local); signer groups of requirement sets are groups."""

    __tablename__ = "person_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    directory_dn: Mapped[str | None] = mapped_column(String(1024))


unique_ci(PersonGroup.name)


class GroupMember(Base):
    __tablename__ = "group_member"
    group_id: Mapped[int] = mapped_column(ForeignKey("person_group.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(Base):
    """A personal API token; only its SHA-256 hash is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed logins per username (existing or not), to slow down guessing after five failures."""

    __tablename__ = "login_throttle"
    username: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
