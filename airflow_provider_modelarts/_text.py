"""Cutting user text and values down to one readable line: the only truncation helpers in the package.

Error messages quote what users wrote (sample names, field values, server messages), and any of those can
be megabytes long. Every message that quotes such text goes through here, so they all cut the same way and
always say how long the original was.
"""

from __future__ import annotations

from typing import Any

__all__ = ["quote", "shorten"]


def shorten(text: str, limit: int = 200) -> str:
    """``text`` itself when it fits in ``limit`` characters, else its start, ``...`` and the full length."""
    if len(text) <= limit:
        return text
    suffix = f"...[{len(text):,} chars]"
    return text[: max(limit - len(suffix), 0)] + suffix


def quote(value: Any, limit: int = 80) -> str:
    """``repr(value)`` shortened with :func:`shorten`: for quoting a user's value inside a message."""
    return shorten(repr(value), limit)
