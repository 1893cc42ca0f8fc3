"""Deployments of component versions in product versions."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped, Versioned


class Deployment(Versioned, Timestamped, Base):
    __tablename__ = "deployment"
    __table_args__ = (  # covers the overview's products / locations per version
        Index("ix_deployment_overview", "version_id", "product_version_id", "location_class_id", "is_new"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("component_version.id", ondelete="CASCADE"), index=True
    )
    product_version_id: Mapped[int] = mapped_column(
        ForeignKey("product_version.id", ondelete="RESTRICT"), index=True
    )
    location_class_id: Mapped[int] = mapped_column(
        ForeignKey("location_class.id", ondelete="RESTRICT"), index=True
    )
    environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("environment.id", ondelete="RESTRICT"), index=True
    )
    runtime_id: Mapped[int | None] = mapped_column(ForeignKey("runtime.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    service_name: Mapped[str | None] = mapped_column(String(128))
    binary_name: Mapped[str | None] = mapped_column(String(128))
    is_new: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    notes: Mapped[str | None] = mapped_column(Text)


class DeploymentPort(Base):
    __tablename__ = "deployment_port"
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True
    )
    port_id: Mapped[int] = mapped_column(
        ForeignKey("tcp_port.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class DataCenterDeployment(Base):
    __tablename__ = "data_center_deployment"
    data_center_id: Mapped[int] = mapped_column(
        ForeignKey("data_center.id", ondelete="RESTRICT"), primary_key=True
    )
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True, index=True
    )
