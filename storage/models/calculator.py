"""The calculator's saved scenarios."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class CalcScenario(Base):
    """A calculation a leader ran (``#N``): the model and the overrides, enough to compute it again."""

    __tablename__ = "calc_scenarios"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    author: Mapped[str] = mapped_column(String(255))
    room_id: Mapped[str] = mapped_column(String(255))
    model_id: Mapped[str] = mapped_column(String(64))
    overrides: Mapped[str] = mapped_column(Text)  # JSON {key: value as typed}
    npv: Mapped[float | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
