"""Saved calculator scenarios."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalcScenario


class ScenarioRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def save(self, author: str, room_id: str, model_id: str, overrides: dict[str, str],
                   npv: float | None) -> CalcScenario:
        row = CalcScenario(author=author, room_id=room_id, model_id=model_id, overrides=json.dumps(overrides),
                           npv=npv)
        self.session.add(row)
        await self.session.flush()  # assigns the number #N inside the command's transaction
        return row

    async def get(self, scenario_id: int) -> CalcScenario | None:
        return await self.session.get(CalcScenario, scenario_id)
