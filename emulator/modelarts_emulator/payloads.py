"""Request parsing shared by the handlers: JSON bodies, query parameters, batch item validation.

Bodies are decoded once with :func:`json.loads` and validated with the project's pydantic models
(:mod:`airflow_provider_modelarts.models`), so the emulator accepts exactly what the models accept. Batch
items are validated in one call over the whole list (the fast path); only when that fails are the errors
grouped per item, so one bad sample fails alone, as a per-item result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from airflow_provider_modelarts._models._parse import format_loc

from .codes import PARAMETER_ERROR, ApiError

__all__ = [
    "decoded_size",
    "item_problems",
    "parse_body",
    "query_bool",
    "query_int",
    "validated_body",
]


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body (an empty body is ``{}``)."""
    if not body.strip():
        return {}
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ApiError(PARAMETER_ERROR, f"request body is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ApiError(PARAMETER_ERROR, "request body must be a JSON object")
    return payload


def validated_body(model: type[BaseModel], body: bytes) -> dict[str, Any]:
    """The JSON object of a body that ``model`` accepts; otherwise 400 ``ModelArts.0104`` naming the field."""
    payload = parse_body(body)
    problems = item_problems(model, [payload])
    if problems:
        raise ApiError(PARAMETER_ERROR, problems[0])
    return payload


_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def item_problems(model: type[BaseModel], items: list[Any]) -> dict[int, str]:
    """Validate every item against ``model``; index -> message for the ones that fail."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    try:
        adapter.validate_python(items)
    except ValidationError as exc:
        grouped: dict[int, list[Any]] = {}
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            if loc and isinstance(loc[0], int):
                grouped.setdefault(loc[0], []).append(error)
        problems: dict[int, str] = {}
        for index, errors in grouped.items():
            parts = []
            for error in errors[:5]:
                where = format_loc(error["loc"][1:]) if len(error["loc"]) > 1 else ""
                parts.append(f"{where}: {error['msg']}" if where else error["msg"])
            problems[index] = "; ".join(parts)
        return problems
    return {}


def decoded_size(data: str) -> int:
    """Bytes that base64 text decodes to, without decoding it (whitespace-free text assumed)."""
    length = len(data)
    if length == 0:
        return 0
    padding = 2 if data.endswith("==") else 1 if data.endswith("=") else 0
    return (length * 3) // 4 - padding


def query_int(
    query: Mapping[str, str], name: str, default: int, *, low: int | None = None, high: int | None = None
) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(PARAMETER_ERROR, f"query parameter {name!r} must be an integer, got {raw!r}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(PARAMETER_ERROR, f"query parameter {name!r} must be {bounds}, got {value}")
    return value


def query_bool(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(PARAMETER_ERROR, f"query parameter {name!r} must be true or false, got {raw!r}")
