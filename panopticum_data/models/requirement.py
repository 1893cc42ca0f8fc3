"""Requirement sets, requirements, exclusions and the two recorded statuses of each (version, requirement)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..enums import OWNER_STATUSES, SIGNEE_STATUSES
from .base import NAME_LENGTH, Base, Timestamped, Versioned, enum, unique_ci, utcnow


class RequirementSet(Versioned, Base):
    __tablename__ = "requirement_set"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    doc_link: Mapped[str | None] = mapped_column(String(2048))
    position: Mapped[int] = mapped_column(Integer, default=0)
    ui_slot: Mapped[int] = mapped_column(Integer, default=1)
    validity_days: Mapped[int | None] = mapped_column(Integer)


unique_ci(RequirementSet.name)


class Requirement(Versioned, Base):
    __tablename__ = "requirement"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)


unique_ci(Requirement.title)


class RequirementSetItem(Base):
    """Membership of a requirement in a set, with its order there."""

    __tablename__ = "requirement_set_item"
    set_id: Mapped[int] = mapped_column(
        ForeignKey("requirement_set.id", ondelete="CASCADE"), primary_key=True
    )
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("requirement.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class SignerGroup(Base):
    """Members of these groups sign off (give verdicts on) the set."""

    __tablename__ = "signer_group"
    set_id: Mapped[int] = mapped_column(
        ForeignKey("requirement_set.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("person_group.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SetExclusion(Base):
    """A set that does not apply to a version, with the reason."""

    __tablename__ = "set_exclusion"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    set_id: Mapped[int] = mapped_column(
        ForeignKey("requirement_set.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    excluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    excluded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RequirementStatus(Versioned, Timestamped, Base):
    """The owner's claim and the signee's verdict on one requirement of one version.

    The overall status is derived (``scoring.overall_status``), never stored.
    """

    __tablename__ = "requirement_status"
    __table_args__ = (
        UniqueConstraint("version_id", "requirement_id"),
        # covers the status-matrix read (queries/status_matrix.py): no table lookup per row
        Index(
            "ix_requirement_status_matrix",
            "version_id",
            "requirement_id",
            "owner_status",
            "signee_status",
            "signee_at",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("component_version.id", ondelete="CASCADE"))
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirement.id", ondelete="CASCADE"), index=True)
    owner_status: Mapped[str] = mapped_column(enum("owner_status", OWNER_STATUSES), default="unknown")
    owner_notes: Mapped[str | None] = mapped_column(Text)
    owner_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    owner_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signee_status: Mapped[str] = mapped_column(enum("signee_status", SIGNEE_STATUSES), default="unknown")
    signee_notes: Mapped[str | None] = mapped_column(Text)
    signee_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    signee_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence_url: Mapped[str | None] = mapped_column(String(2048))


class RequirementStatusDigest(Base):
    """Each version's status rows as one string of 15-character records, for the matrix reads.

    Written only by the triggers of migration 0007 on ``requirement_status`` (the record format is
    documented there and decoded by ``queries.status_matrix.decode_cells``); never by the application.
    """

    __tablename__ = "requirement_status_digest"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    cells: Mapped[str] = mapped_column(Text)
