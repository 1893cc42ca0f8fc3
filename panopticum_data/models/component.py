"""Components, their versions, and everything a version owns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..enums import (
    API_PUBLIC,
    DEPENDENCY_TYPES,
    LIFE_STATUSES,
    LINK_KINDS,
    MULTI_OWNER_ROLES,
    QA_KINDS,
    QA_LEVELS,
)
from .base import NAME_LENGTH, Base, Timestamped, Versioned, enum, unique_ci


class Component(Versioned, Timestamped, Base):
    """The long-lived identity of a service, library, database or front end."""

    __tablename__ = "component"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    life_status: Mapped[str] = mapped_column(enum("life_status", LIFE_STATUSES), default="unknown")
    type_id: Mapped[int | None] = mapped_column(
        ForeignKey("component_type.id", ondelete="RESTRICT"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="RESTRICT"), index=True
    )
    subcategory_id: Mapped[int | None] = mapped_column(
        ForeignKey("subcategory.id", ondelete="RESTRICT"), index=True
    )
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendor.id", ondelete="RESTRICT"), index=True)
    privacy_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("privacy_class.id", ondelete="RESTRICT"), index=True
    )
    highly_loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("component_version.id", ondelete="SET NULL", use_alter=True), index=True
    )


unique_ci(Component.name)


class ComponentTag(Base):
    __tablename__ = "component_tag"
    component_id: Mapped[int] = mapped_column(
        ForeignKey("component.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tag.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class ComponentVersion(Versioned, Timestamped, Base):
    """What changes between releases: owners, stack, links, QA, dependencies, deployments, statuses."""

    __tablename__ = "component_version"
    __table_args__ = (UniqueConstraint("component_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    comments: Mapped[str | None] = mapped_column(Text)
    maintainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True
    )
    responsible_qa_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), index=True
    )
    code_kloc: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    api_is_public: Mapped[str] = mapped_column(enum("api_is_public", API_PUBLIC), default="unknown")
    qa_applicable: Mapped[bool] = mapped_column(Boolean, default=True)


class VersionOwner(Base):
    """The many-people owner roles of a version (maintainer and responsible QA are columns)."""

    __tablename__ = "version_owner"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(enum("owner_role", MULTI_OWNER_ROLES), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class VersionLanguage(Base):
    __tablename__ = "version_language"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    language_id: Mapped[int] = mapped_column(
        ForeignKey("language.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class VersionFramework(Base):
    __tablename__ = "version_framework"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("framework.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class VersionDatabase(Base):
    __tablename__ = "version_database"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    database_vendor_id: Mapped[int] = mapped_column(
        ForeignKey("database_vendor.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class VersionOrm(Base):
    __tablename__ = "version_orm"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    orm_id: Mapped[int] = mapped_column(
        ForeignKey("orm.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class VersionLogger(Base):
    __tablename__ = "version_logger"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    logger_id: Mapped[int] = mapped_column(
        ForeignKey("logger.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class VersionRuntime(Base):
    __tablename__ = "version_runtime"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    runtime_id: Mapped[int] = mapped_column(
        ForeignKey("runtime.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class VersionLink(Base):
    """One URL of one kind (repository, docs, …); a version may have several of each kind."""

    __tablename__ = "version_link"
    __table_args__ = (UniqueConstraint("version_id", "kind", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(enum("link_kind", LINK_KINDS))
    url: Mapped[str] = mapped_column(String(2048))
    position: Mapped[int] = mapped_column(Integer, default=0)


class DocumentLink(Base):
    __tablename__ = "document_link"
    __table_args__ = (UniqueConstraint("version_id", "document_type_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), index=True
    )
    document_type_id: Mapped[int] = mapped_column(
        ForeignKey("document_type.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(256))
    url: Mapped[str] = mapped_column(String(2048))


class Dependency(Base):
    """A version depends on a component, with one of seven types; one edge per (version, component, type)."""

    __tablename__ = "dependency"
    __table_args__ = (UniqueConstraint("version_id", "component_id", "type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), index=True
    )
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id", ondelete="RESTRICT"), index=True)
    type: Mapped[str] = mapped_column(enum("dependency_type", DEPENDENCY_TYPES), default="strong_rw")
    notes: Mapped[str | None] = mapped_column(Text)


class QaLevel(Base):
    """The level of one kind of testing of a version; a missing row means "unknown"."""

    __tablename__ = "qa_level"
    __table_args__ = (Index("ix_qa_level_version_id_level", "version_id", "level"),)  # covers the QA score
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(enum("qa_kind", QA_KINDS), primary_key=True)
    level: Mapped[str] = mapped_column(enum("qa_level", QA_LEVELS), default="unknown")
    notes: Mapped[str | None] = mapped_column(Text)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Endpoint(Base):
    """A URL pattern served by a component ("who serves https://api.example.com/v2/orders?")."""

    __tablename__ = "endpoint"
    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(String(2048))
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id", ondelete="CASCADE"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)


unique_ci(Endpoint.pattern)
