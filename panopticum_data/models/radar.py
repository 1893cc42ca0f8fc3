"""Tech radar: quadrants, rings and entries."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import NAME_LENGTH, Base, Timestamped, unique_ci


class RadarQuadrant(Base):
    __tablename__ = "radar_quadrant"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(Text)


class RadarRing(Base):
    __tablename__ = "radar_ring"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str] = mapped_column(String(32), default="#e0e0e0")


class RadarEntry(Timestamped, Base):
    __tablename__ = "radar_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    quadrant_id: Mapped[int] = mapped_column(ForeignKey("radar_quadrant.id", ondelete="RESTRICT"), index=True)
    ring_id: Mapped[int] = mapped_column(ForeignKey("radar_ring.id", ondelete="RESTRICT"), index=True)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    link: Mapped[str | None] = mapped_column(String(2048))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


unique_ci(RadarQuadrant.name)
unique_ci(RadarRing.name)
unique_ci(RadarEntry.label)
