"""Whether a validated sample can be sent as JSON exactly as the user wrote it.

Field validators check what the pages document; they cannot see inside custom label attributes or sample
metadata (any JSON value is allowed there), and pydantic's JSON output would silently turn ``inf`` / ``nan``
into ``null``, fail on a lone surrogate (``"\\ud800"`` is valid JSON text but not UTF-8) or on an arbitrary
object, and give up on deep nesting. :func:`parse_samples` runs this check on every sample it accepts, so such
values are reported as the sample's problem, naming the field, instead of crashing a batch later.

Two walks: :func:`plainly_sendable` is the common case (plain ASCII text, ints, finite floats, shallow) and
builds no field paths; :func:`unsendable` runs only when it says no, to find and name the offending field.
Both are iterative, so no nesting depth can raise ``RecursionError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import Enum
from typing import Any, Final

from pydantic import SecretStr, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from .._text import quote, shorten

__all__ = ["MAX_DEPTH", "NON_FINITE_MESSAGE", "plainly_sendable", "refuse_unsendable", "unsendable"]

MAX_DEPTH: Final = 64
"""Deepest nesting accepted in a sample. Real label attributes are a few levels deep; pydantic's serialiser
gives up somewhere past 200, and Airflow's template walks recurse, so anything close to that is refused."""

NON_FINITE_MESSAGE: Final = "NaN or infinite numbers cannot be sent as JSON"


def plainly_sendable(value: Any, depth: int = 0) -> bool:
    """Fast check, building no paths, that ``value`` is plain JSON within the depth limit.

    The common case of :func:`unsendable` (which names the field, and runs only when this says no).
    Scalars are checked in place; containers one nesting level at a time (no stack entry per container).
    Anything unusual (non-ASCII text, subclasses, non-dict mappings) answers False and is left to the slow
    walk to judge. ``depth`` is the level ``value`` sits at: -1 checks a list of samples in one walk.
    """
    if type(value) is not dict and type(value) is not list:
        return False
    level: list[Any] = [value]
    while level:
        if depth >= MAX_DEPTH:
            return False
        nested: list[Any] = []
        push = nested.append
        for container in level:
            if type(container) is dict:
                for key in container:
                    if type(key) is not str or not key.isascii():
                        return False
                children = container.values()
            else:
                children = container
            for child in children:
                kind = type(child)
                if kind is str:
                    if not child.isascii():
                        return False  # the slow walk decides: non-ASCII is fine unless a lone surrogate
                elif kind is dict or kind is list:
                    push(child)
                elif kind is float:
                    if child - child != 0.0:  # inf and nan
                        return False
                elif kind is not int and kind is not bool and child is not None:
                    return False
        level = nested
        depth += 1
    return True


def _has_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unsendable(value: Any) -> tuple[str, str] | None:
    """``(field path, reason)`` of the first value a JSON body cannot carry faithfully, else None.

    Walks plain data (the user's mapping, or a model's python-mode dump, where nothing has been converted
    yet): non-finite floats, lone surrogates in text or keys, non-string keys, objects of arbitrary types,
    nesting deeper than :data:`MAX_DEPTH`. Exact-type checks first: this runs once per sample.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, path, depth = pop()
        kind = type(item)
        if kind is str:
            if _has_surrogate(item):
                return path or "(sample)", "text contains a lone surrogate, which is not valid UTF-8"
            continue
        if kind is int or kind is bool or item is None:
            continue
        if kind is float:
            if not math.isfinite(item):
                return path or "(sample)", NON_FINITE_MESSAGE
            continue
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                # The path of a value 64 levels down is mostly "[0][0]..."; its start says where it is.
                return shorten(path, 80) or "(sample)", f"nested more than {MAX_DEPTH} levels deep"
            if kind is dict:
                for key, child in item.items():
                    if type(key) is not str and not isinstance(key, str):
                        return path or "(sample)", f"key {quote(key, 60)} is not a string"
                    if _has_surrogate(key):
                        return (
                            path or "(sample)",
                            f"key {quote(key, 60)} contains a lone surrogate, which is not valid UTF-8",
                        )
                    push((child, f"{path}.{key}" if path else str(key), depth + 1))
            else:
                for i, child in enumerate(item):
                    push((child, f"{path}[{i}]", depth + 1))
            continue
        # Rarer types: subclasses and the ones pydantic serialises itself.
        if isinstance(item, SecretStr):
            push((item.get_secret_value(), path, depth))
            continue
        if isinstance(item, Enum):
            push((item.value, path, depth))
            continue
        if isinstance(item, (bool, int)):
            continue
        if isinstance(item, str):
            push((str(item), path, depth))
            continue
        if isinstance(item, float):
            push((float(item), path, depth))
            continue
        if isinstance(item, (Mapping, list, tuple)):
            push((dict(item) if isinstance(item, Mapping) else list(item), path, depth))
            continue
        return path or "(sample)", f"a {type(item).__name__} is not JSON"
    return None


def refuse_unsendable(title: str, value: Any) -> None:
    """Raise a ``ValidationError`` titled ``title`` if a JSON body cannot carry ``value`` faithfully.

    For request objects other than samples (a label format, say): the same rule :func:`parse_sample` applies,
    reported the way pydantic reports every other problem with the object, naming the field.
    """
    if plainly_sendable(value):
        return
    found = unsendable(value)
    if found is None:
        return
    path, reason = found
    error = InitErrorDetails(
        type=PydanticCustomError("not_json", "{reason}", {"reason": reason}), loc=(path,), input=value
    )
    raise ValidationError.from_exception_data(title, [error])
