"""The two ways of reading a payload other than the default, both worked out from pydantic's own errors.

The models carry no per-object validator for them (one ran for every object of every payload before, the
largest single cost of a bulk run); instead:

* :func:`validate_strictly` (user input): pydantic validates with ``extra="forbid"``; when that refuses a key,
  the error is re-raised as ``unknown_field`` with a "did you mean" hint from the keys of the model at the
  error's location (:func:`unknown_key_hint`). Every other error of the same validation comes back
  unchanged, next to it.
* :func:`read_leniently` (service replies): pydantic validates as usual; only when that fails, each value
  that does not fit is found from the error's location, left out of a second validation and put back, raw,
  where it was: an item of a list or a mapping in place, any other value as its field's value. A value that
  does not fit where an object belongs fails the enclosing object's field, not the object itself; a
  non-object at the top still fails, and the caller decides.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = ["RULE_ERROR", "UNKNOWN_FIELD", "read_leniently", "unknown_key_hint", "validate_strictly"]

UNKNOWN_FIELD: Final = "unknown_field"
"""``type`` of the pydantic error for an unknown key in user input."""

RULE_ERROR: Final = "modelarts_rule"
"""``type`` of the pydantic errors raised by the documented value rules."""

Loc = tuple[int | str, ...]


@functools.cache
def field_names(cls: type[BaseModel]) -> Mapping[str, str]:
    """Input key (field name or its ``@modelarts:`` alias) -> field name."""
    names = {name: name for name in cls.model_fields}
    names.update({f.alias: name for name, f in cls.model_fields.items() if f.alias})
    return names


@functools.cache
def _field_shape(cls: type[BaseModel], name: str) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (directly, or as the items of a list / values of a mapping), and whether
    it is held in such a container."""

    def find(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation, False
        origin = typing.get_origin(annotation)
        contained = origin is not None and origin not in (typing.Union, types.UnionType, typing.Annotated)
        for arg in typing.get_args(annotation):
            model, inner = find(arg)
            if model is not None:
                return model, inner or contained
        return None, False

    return find(cls.model_fields[name].annotation)


def _walk(root: type[BaseModel], data: Any, loc: Loc) -> tuple[Loc, Any, int] | None:
    """Along ``loc`` through ``data``: the innermost object read by a model that the location enters,
    as ``(its path, its key on the location, position of that key in loc)``; None if loc enters none."""
    value, held = data, None
    model: type[BaseModel] | None = root
    found = None
    for position, part in enumerate(loc):
        if model is not None:  # ``value`` is an object read by ``model``
            if not isinstance(value, Mapping) or part not in value:
                break
            found = (loc[:position], part, position)
            name = field_names(model).get(str(part))  # None: a key the model does not declare (kept as is)
            held, contained = _field_shape(model, name) if name else (None, False)
            value = value[part]
            model = None if contained else held
            if not isinstance(value, Mapping):
                model = None
            continue
        listed = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not listed and not (isinstance(value, Mapping) and part in value):
            break
        value = value[part]
        model = held if isinstance(value, Mapping) else None
    return found


# ------------------------------------------------------------------------------------------ strict input


def unknown_key_hint(root: type[BaseModel], loc: Loc) -> str:
    """ "; did you mean 'x'?" for the unknown key at ``loc`` of a ``root`` payload, or ""."""
    key = loc[-1] if loc else None
    if not isinstance(key, str):
        return ""
    model: type[BaseModel] | None = root
    for part in loc[:-1]:
        if model is None:
            return ""
        name = field_names(model).get(part) if isinstance(part, str) else None
        if name is not None:
            model = _field_shape(model, name)[0]
    if model is None:
        return ""
    prefix = "@modelarts:" if key.startswith("@modelarts:") else ""  # the shared prefix matches everything
    candidates = {k[len(prefix) :]: k for k in field_names(model) if k.startswith(prefix)}
    close = difflib.get_close_matches(key[len(prefix) :], sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean {candidates[close[0]]!r}?" if close else ""


def _hinted(root: type[BaseModel], error: ValidationError) -> Iterable[InitErrorDetails]:
    """The line errors of ``error``, unknown keys as ``unknown_field`` with a hint, the others unchanged."""
    for detail in error.errors():
        loc, ctx = tuple(detail["loc"]), detail.get("ctx")
        if detail["type"] == "extra_forbidden":
            kind = PydanticCustomError(
                UNKNOWN_FIELD, "unknown field{hint}", {"hint": unknown_key_hint(root, loc)}
            )
        elif detail["type"] == RULE_ERROR and ctx and "field" in ctx:  # rule_error(field=...): both parts
            kind = PydanticCustomError(RULE_ERROR, "{field}: {detail}", ctx)
        else:  # the message is final already: no context, so nothing in it is read as a placeholder again
            kind = PydanticCustomError(detail["type"], detail["msg"])
        yield {"type": kind, "loc": loc, "input": detail["input"]}


def validate_strictly(validate: Callable[[Any], Any], root: type[BaseModel], data: Any, title: str) -> Any:
    """``validate(data)`` (which validates with ``extra="forbid"``), unknown keys reported with hints.

    ``root`` is the model of ``data`` (of each item, when ``validate`` reads a list of them).
    """
    try:
        return validate(data)
    except ValidationError as error:
        if not any(detail["type"] == "extra_forbidden" for detail in error.errors()):
            raise
        raise ValidationError.from_exception_data(title, list(_hinted(root, error))) from None


# ---------------------------------------------------------------------------------------------- replies


def read_leniently(root: type[BaseModel], data: Any, validate: Callable[[Any], Any]) -> Any:
    """``validate(data)``; if that fails, the values that do not fit are kept raw (module docstring)."""
    try:
        return validate(data)
    except ValidationError as error:
        if not isinstance(data, Mapping):
            raise
        whole: set[tuple[Loc, int | str]] = set()
        items: dict[tuple[Loc, int | str], set[int | str]] = {}
        for detail in error.errors():
            loc = tuple(detail["loc"])
            found = _walk(root, data, loc)
            if found is None:
                raise  # a problem of the object as a whole
            path, key, position = found
            value = _at(data, (*path, key))
            inner = loc[position + 1] if position + 1 < len(loc) else None
            if (isinstance(value, list) and isinstance(inner, int)) or (
                isinstance(value, Mapping) and isinstance(inner, str) and inner in value
            ):
                items.setdefault((path, key), set()).add(inner)
            else:
                whole.add((path, key))
    fixes: dict[tuple[Loc, int | str], set[int | str] | None] = {**items, **dict.fromkeys(whole)}
    pruned = _pruned(data, fixes)
    model = validate(pruned)
    for (path, key), kept in sorted(fixes.items(), key=lambda fix: len(fix[0][0])):  # outermost first
        _put_back(model, path, key, _at(data, (*path, key)), kept)
    return model


def _at(data: Any, path: Sequence[int | str]) -> Any:
    for part in path:
        data = data[part]
    return data


def _pruned(data: Mapping[str, Any], fixes: Mapping[tuple[Loc, int | str], set[int | str] | None]) -> Any:
    """A copy of ``data`` without the values of ``fixes`` (containers along their paths copied, the rest
    shared). Innermost first, so every path still counts positions as ``data`` does."""
    root: Any = dict(data)
    for (path, key), items in sorted(fixes.items(), key=lambda fix: -len(fix[0][0])):
        parent = root
        for part in path:  # copy each container on the way down (a copy of a copy costs little)
            child = parent[part]
            parent[part] = child = list(child) if isinstance(child, list) else dict(child)
            parent = child
        value = parent[key]
        if items is None:
            del parent[key]
        elif isinstance(value, list):
            parent[key] = [item for i, item in enumerate(value) if i not in items]
        else:
            parent[key] = {k: v for k, v in value.items() if k not in items}
    return root


def _put_back(model: Any, path: Loc, key: int | str, raw: Any, items: set[int | str] | None) -> None:
    """Put ``raw`` (or its ``items``) back at ``path`` / ``key`` of the validated ``model``."""
    target = model
    for part in path:  # every step exists: ``data`` had it, and a fix further out kept it raw or read it
        if isinstance(target, BaseModel):
            target = getattr(target, field_names(type(target))[str(part)])
        else:
            target = target[part]
    if not isinstance(target, BaseModel):
        return  # kept raw as a whole by a fix further out
    name = field_names(type(target))[str(key)]  # a declared key: undeclared ones are kept, never refused
    if items is None:
        setattr(target, name, raw)
        return
    read = getattr(target, name)
    if isinstance(raw, list):
        merged = list(read)
        for i in sorted(i for i in items if isinstance(i, int)):
            merged.insert(i, raw[i])
        setattr(target, name, merged)
    else:
        setattr(target, name, {k: (v if k in items else read[k]) for k, v in raw.items()})
