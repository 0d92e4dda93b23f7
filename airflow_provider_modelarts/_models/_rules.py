"""The value rules the API pages state, as plain functions.

Each function returns the (possibly normalised) value or raises a pydantic error carrying a short message
meant to be read next to the field path ("must be between 0 and 1"). Keeping them out of the model classes
keeps the models readable and lets the emulator reuse exactly the same checks.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ._base import rule_error
from ._enums import Shape

__all__ = [
    "ENCODINGS",
    "MAX_SAMPLE_BYTES",
    "SAMPLE_NAME_FORBIDDEN",
    "SAMPLE_NAME_MAX",
    "SEPARATOR_SPECIALS",
    "check_encoding",
    "check_end_after_start",
    "check_feature",
    "check_hard_flag",
    "check_hard_reasons",
    "check_image_size",
    "check_sample_name",
    "check_separator",
    "check_time",
    "check_unit_interval",
    "decoded_base64_size",
    "time_to_ms",
]

SAMPLE_NAME_FORBIDDEN: Final = "!<>=&\"'"
"""Characters a sample name must not contain (Sample.name)."""

SAMPLE_NAME_MAX: Final = 1024

SEPARATOR_SPECIALS: Final = "!@#$%^&*_=|?/':.;,"
"""Special characters allowed as a LabelFormat separator, besides ASCII letters and digits."""

ENCODINGS: Final = ("UTF-8", "GBK", "GB2312")

MAX_SAMPLE_BYTES: Final = 12_582_912
"""Largest sample the service accepts (ModelArts.4656)."""

_TIME = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})")
_HARD_REASONS = re.compile(r"\d+(?:-\d+)*")
_NAME_FORBIDDEN = re.compile("[" + re.escape(SAMPLE_NAME_FORBIDDEN) + "]")


def check_unit_interval(value: float) -> float:
    """Scores, hard coefficients: the pages give the range [0,1] (NaN fails too)."""
    if not 0 <= value <= 1:
        raise rule_error("must be between 0 and 1")
    return value


def check_sample_name(name: str) -> str:
    if len(name) > SAMPLE_NAME_MAX:
        raise rule_error(f"must be at most {SAMPLE_NAME_MAX} characters (got {len(name)})")
    found = _NAME_FORBIDDEN.search(name)
    if found:
        raise rule_error(f"must not contain any of {SAMPLE_NAME_FORBIDDEN} (found {found.group()!r})")
    return name


def check_encoding(encoding: str) -> str:
    """UTF-8, GBK or GB2312, any letter case; returns the canonical spelling the service documents."""
    for known in ENCODINGS:
        if encoding.strip().upper() == known:
            return known
    raise rule_error(f"must be one of {', '.join(ENCODINGS)}")


def check_separator(value: str, *, allow_tab: bool) -> str:
    """Exactly one ASCII letter, digit or one of ``!@#$%^&*_=|?/':.;,`` (tab: documented sample default)."""
    if len(value) != 1:
        raise rule_error(f"must be exactly one character (got {len(value)})")
    if (value.isascii() and value.isalnum()) or value in SEPARATOR_SPECIALS or (allow_tab and value == "\t"):
        return value
    allowed = "a letter, a digit" + (", a tab" if allow_tab else "")
    raise rule_error(f"must be {allowed} or one of {SEPARATOR_SPECIALS} (got {value!r})")


def check_image_size(size: list[int]) -> list[int]:
    """``@modelarts:size``: [width, height] or [width, height, depth], all positive."""
    if len(size) not in (2, 3) or any(v <= 0 for v in size):
        raise rule_error("must be [width, height] or [width, height, depth] with positive integers")
    return size


def time_to_ms(value: str) -> int | None:
    """Milliseconds of an ``hh:mm:ss.SSS`` time, or None when it is not in that format."""
    match = _TIME.fullmatch(value)
    if match is None:
        return None
    hours, minutes, seconds, millis = (int(g) for g in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def check_time(value: str) -> str:
    if time_to_ms(value) is None:
        raise rule_error("must be a time in the format hh:mm:ss.SSS (e.g. 00:01:02.500)")
    return value


def check_end_after_start(start: Any, end: Any, *, what: str, allow_equal: bool) -> None:
    """Raise when ``end`` comes before ``start`` (both already valid); missing values are not compared."""
    if start is None or end is None:
        return
    if end < start or (end == start and not allow_equal):
        relation = "at or after" if allow_equal else "after"
        raise rule_error(f"must be {relation} the {what}")


def check_hard_flag(value: str) -> str:
    """``@modelarts:hard`` of a label: the strings 0, 1, false or true."""
    if value.strip().lower() not in ("0", "1", "true", "false"):
        raise rule_error("must be 0, 1, true or false")
    return value


def check_hard_reasons(value: str) -> str:
    """``@modelarts:hard_reasons`` of a label: reason IDs joined by hyphens, e.g. ``3-20-21-19``."""
    if not _HARD_REASONS.fullmatch(value):
        raise rule_error("must be reason IDs joined by '-', e.g. 3-20-21")
    return value


def decoded_base64_size(text: str) -> int:
    """Bytes that ``text`` decodes to, computed from its length (no decoding: samples can be 12 MB)."""
    length = len(text)
    padding = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    return length * 3 // 4 - padding


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_POINT_COUNTS: Final[dict[Shape, tuple[int, int | None, str]]] = {
    Shape.BNDBOX: (2, 2, "bndbox must be two points [[x1, y1], [x2, y2]]"),
    Shape.LINE: (2, 2, "line must be two points [[x1, y1], [x2, y2]]"),
    Shape.DASHED: (2, 2, "dashed must be two points [[x1, y1], [x2, y2]]"),
    Shape.POINT: (1, 1, "point must be one point [[x, y]]"),
    Shape.POLYGON: (3, None, "polygon needs at least 3 points"),
    Shape.POLYLINE: (2, None, "polyline needs at least 2 points"),
}


def check_feature(feature: Any, shape: Any) -> list[list[int | float]]:
    """``@modelarts:feature``: the shape's points, every coordinate >= 0.

    ``shape`` is the label's ``@modelarts:shape`` (a :class:`Shape`, or None / an unknown string, in which
    case only the coordinates are checked). Numbers keep their JSON type (ints stay ints) so the payload is
    unchanged.
    """
    if not isinstance(feature, (list, tuple)):
        raise rule_error("must be a list of points, e.g. [[0, 10], [50, 95]]")
    points: list[list[int | float]] = []
    for i, point in enumerate(feature):
        if not isinstance(point, (list, tuple)):
            raise rule_error(f"point {i} must be a list of numbers, e.g. [0, 10]")
        for value in point:
            kind = type(value)
            if kind is not int and kind is not float and not _is_number(value):
                raise rule_error(f"point {i} must contain only numbers")
            if value < 0:
                raise rule_error(f"point {i}: coordinates must be >= 0")
        points.append(list(point))
    if shape == Shape.CIRCLE:
        if len(points) != 2 or len(points[0]) != 2 or len(points[1]) != 1:
            raise rule_error("circle must be [[x, y], [radius]]")
        if points[1][0] <= 0:
            raise rule_error("circle radius must be > 0")
        return points
    if isinstance(shape, Shape):
        low, high, message = _POINT_COUNTS[shape]
        if len(points) < low or (high is not None and len(points) > high):
            raise rule_error(message)
        for i, point in enumerate(points):
            if len(point) != 2:
                raise rule_error(f"point {i} must be [x, y]")
        if shape == Shape.BNDBOX:
            (x1, y1), (x2, y2) = points
            if not (x1 < x2 and y1 < y2):
                raise rule_error("bndbox first point must be above-left of the second")
    elif not points or any(len(p) not in (1, 2) for p in points):
        raise rule_error("must be a list of [x, y] points")
    return points
