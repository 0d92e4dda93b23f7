"""Helpers shared by the emulator tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

import base64
from typing import Any

# Retries that keep the fault tests fast (the policy's shape, not its timing, is under test elsewhere).


def image(
    name: str, label: str | None = None, payload: bytes = b"\x89PNG fake image bytes"
) -> dict[str, Any]:
    sample: dict[str, Any] = {"name": name, "sample_type": 0, "data": base64.b64encode(payload).decode()}
    if label is not None:
        sample["labels"] = [{"name": label, "type": 0}]
    return sample
