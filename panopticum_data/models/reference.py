"""Reference tables ("wheels"): every name is unique case-insensitively; rows in use cannot be deleted."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import NAME_LENGTH, Base, unique_ci


class Category(Base):
    __tablename__ = "category"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Subcategory(Base):
    __tablename__ = "subcategory"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"), index=True)


class ComponentType(Base):
    __tablename__ = "component_type"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Vendor(Base):
    __tablename__ = "vendor"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class PrivacyClass(Base):
    __tablename__ = "privacy_class"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Language(Base):
    __tablename__ = "language"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Framework(Base):
    __tablename__ = "framework"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    language_id: Mapped[int | None] = mapped_column(
        ForeignKey("language.id", ondelete="RESTRICT"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)


class DatabaseVendor(Base):
    __tablename__ = "database_vendor"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Orm(Base):
    __tablename__ = "orm"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    language_id: Mapped[int | None] = mapped_column(
        ForeignKey("language.id", ondelete="RESTRICT"), index=True
    )


class Logger(Base):
    __tablename__ = "logger"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Runtime(Base):
    __tablename__ = "runtime"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    language_id: Mapped[int | None] = mapped_column(
        ForeignKey("language.id", ondelete="RESTRICT"), index=True
    )


class LocationClass(Base):
    __tablename__ = "location_class"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    shortname: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Environment(Base):
    __tablename__ = "environment"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class TcpPort(Base):
    __tablename__ = "tcp_port"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    port: Mapped[int] = mapped_column(Integer)


class DataCenter(Base):
    __tablename__ = "data_center"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    info: Mapped[str | None] = mapped_column(Text)
    grafana_url: Mapped[str | None] = mapped_column(Text)
    metrics_url: Mapped[str | None] = mapped_column(Text)


class DocumentType(Base):
    __tablename__ = "document_type"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Tag(Base):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class ProductFamily(Base):
    __tablename__ = "product_family"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class ProductVersion(Base):
    __tablename__ = "product_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    shortname: Mapped[str | None] = mapped_column(String(64))
    family_id: Mapped[int] = mapped_column(ForeignKey("product_family.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class JobRole(Base):
    """A person's role in the organisation (e.g. "Developer"), not an access role."""

    __tablename__ = "job_role"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


REFERENCE_MODELS: dict[str, type[Base]] = {
    m.__tablename__: m
    for m in (
        Category,
        Subcategory,
        ComponentType,
        Vendor,
        PrivacyClass,
        Language,
        Framework,
        DatabaseVendor,
        Orm,
        Logger,
        Runtime,
        LocationClass,
        Environment,
        TcpPort,
        DataCenter,
        DocumentType,
        Tag,
        ProductFamily,
        ProductVersion,
        Organisation,
        Department,
        JobRole,
    )
}

for _model in REFERENCE_MODELS.values():
    unique_ci(_model.name)  # type: ignore[attr-defined]
