"""Advisor feedback (kept as given) and the per-hour weights it adjusts."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_common.units import Repository


class SqlAdvisor(Repository):
    """The advisor's feedback and per-hour weights."""

    async def record_feedback(self, **feedback: Any) -> None:
        await self.conn.execute(
            """INSERT INTO advisor_feedback (feedback_id, brand_id, user_id, hour_of_week, rating, comment)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            feedback["feedback_id"],
            feedback["brand_id"],
            feedback["user_id"],
            feedback["hour_of_week"],
            feedback["rating"],
            feedback["comment"],
        )

    async def weight_for_update(self, brand_id: uuid.UUID, hour_of_week: int) -> float:
        """The current weight, row-locked so two concurrent ratings both count."""
        await self.conn.execute(
            """INSERT INTO advisor_weights (brand_id, hour_of_week, weight) VALUES ($1, $2, 1.0)
               ON CONFLICT DO NOTHING""",
            brand_id,
            hour_of_week,
        )
        return await self.conn.fetchval(
            "SELECT weight FROM advisor_weights WHERE brand_id = $1 AND hour_of_week = $2 FOR UPDATE",
            brand_id,
            hour_of_week,
        )

    async def set_weight(self, brand_id: uuid.UUID, hour_of_week: int, weight: float) -> None:
        await self.conn.execute(
            "UPDATE advisor_weights SET weight = $3, updated_at = now() WHERE brand_id = $1 AND hour_of_week = $2",
            brand_id,
            hour_of_week,
            weight,
        )
