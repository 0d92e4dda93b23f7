"""``SteppedTrigger``: an :class:`AcceptanceTrigger` whose sleeps between polls end when the test says so.

Shared by the unit tier (respx at the network edge) and the integration tier (the emulator over HTTP): a test
waits for ``asleep`` (set after each poll), changes the world, then sets ``wake``; nothing waits on a clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_provider_modelarts.triggers.acceptance import AcceptanceTrigger


class SteppedTrigger(AcceptanceTrigger):
    """Sleeps until the test wakes it (``asleep`` is set after each poll): no waiting on the clock."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asleep = asyncio.Event()
        self.wake = asyncio.Event()

    async def _sleep(self, seconds: float) -> None:
        self.asleep.set()
        await self.wake.wait()
        self.wake.clear()
        self.asleep.clear()
