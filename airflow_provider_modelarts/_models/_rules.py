"""The value rules the API pages state, as plain functions, each with the page and sentence it comes from.

Each function returns the (possibly normalised) value or raises a pydantic error carrying a short message
meant to be read next to the field path ("must be between 0 and 1"). Keeping them out of the model classes
keeps the models readable and lets the emulator reuse exactly the same checks.

Sources are quoted in a ``# Source:`` comment next to each rule; the README's "Validation rules and their
sources" table lists the same. Page names: *UploadSamplesJson* is ``003_8ec5c019ba56b464.txt`` (Adding
Samples in Batches), *UpdateSamples* ``000_083820691b592fee.txt``, *UpdateWorkforceTaskSamples*
``001_3ca220908f15bd0f.txt`` / ``004_583f5741ccd6c88f.txt``, *StartWorkforceSamplingTask*
``related/creating_a_team_labeling_acceptance_task.rst``; the error table is
``related/modelarts_error_codes.tsv``. A check the pages do not state is not made here: the service judges
what the pages leave open.
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
    "check_encoding",
    "check_feature",
    "check_hard_flag",
    "check_hard_reasons",
    "check_hard_sample",
    "check_image_size",
    "check_label_type",
    "check_sample_name",
    "check_sample_size",
    "check_separator",
    "check_text_position",
    "check_time",
    "check_unit_interval",
    "check_unit_interval_text",
    "decoded_base64_size",
    "time_to_ms",
]

SAMPLE_NAME_FORBIDDEN: Final = "!<>=&\"'"
"""Characters a sample name must not contain (Sample.name)."""

SAMPLE_NAME_MAX: Final = 1024

ENCODINGS: Final = ("UTF-8", "GBK", "GB2312")

# Source: error table, ModelArts.4656 (HTTP 400) "Sample oversized": "Ensure the size of a sample is not
# larger than 12,582,912 bytes."
MAX_SAMPLE_BYTES: Final = 12_582_912
"""Largest sample the service accepts (ModelArts.4656). The one definition: import it from ``models``."""

# Base64 text of this length or less decodes to at most MAX_SAMPLE_BYTES (4 characters carry 3 bytes).
_MAX_ENCODED: Final = MAX_SAMPLE_BYTES // 3 * 4

_TIME = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})")
_HARD_REASONS = re.compile(r"\d+(?:-\d+)*")
_NAME_FORBIDDEN = re.compile("[" + re.escape(SAMPLE_NAME_FORBIDDEN) + "]")


def check_unit_interval(value: float) -> float:
    """Scores and hard coefficients in [0, 1] (NaN fails too).

    Source: UploadSamplesJson / UpdateSamples, SampleLabel.score "Confidence. The value range is [0,1].";
    @modelarts:hard_coefficient of SampleLabelProperty and SampleMetadata "The value range is [0,1]."
    """
    if not 0 <= value <= 1:
        raise rule_error("must be between 0 and 1")
    return value


def check_unit_interval_text(value: str) -> str:
    """``@modelarts:hard_coefficient`` of a label: a String on the page, holding a number in [0, 1].

    Source: SampleLabelProperty "@modelarts:hard_coefficient | No | String | ... The value range is [0,1]."
    """
    try:
        number = float(value)
    except ValueError:
        raise rule_error("must be a number between 0 and 1") from None
    check_unit_interval(number)
    return value


def check_hard_sample(value: float) -> float:
    """Source: SampleMetadata "@modelarts:hard" "Options: 0: non-hard sample; 1: hard sample"."""
    if value not in (0, 1):
        raise rule_error("must be 0 (not a hard sample) or 1 (hard sample)")
    return value


def check_label_type(value: str) -> str:
    """Source: UploadSamplesJson, LabelFormat.label_type "Options: 0: The label is separated from the text
    ... 1: Default value. Labels and texts are stored in the same file"."""
    if value not in ("0", "1"):
        raise rule_error("must be 0 (labels in a separate _result file) or 1 (labels in the same file)")
    return value


def check_text_position(value: int) -> int:
    """``@modelarts:start_index`` / ``@modelarts:end_index``: positions in the text, from 0.

    Source: SampleLabelProperty "@modelarts:start_index" "The start value begins from 0" -- positions count
    from 0, the end position as well. The pages do not order end after start (their example spans have
    end > start, but no sentence requires it): not checked.
    """
    if value < 0:
        raise rule_error("must be >= 0")
    return value


def check_sample_size(data: str) -> str:
    """``Sample.data`` (base64 text) decoding to at most :data:`MAX_SAMPLE_BYTES`.

    Source: error table, ModelArts.4656 "Ensure the size of a sample is not larger than 12,582,912 bytes."
    """
    if len(data) <= _MAX_ENCODED:  # the common case, without computing the size
        return data
    size = decoded_base64_size(data)
    if size > MAX_SAMPLE_BYTES:
        raise rule_error(f"sample is {size:,} bytes; the service accepts at most {MAX_SAMPLE_BYTES:,}")
    return data


def check_sample_name(name: str) -> str:
    """Source: UploadSamplesJson, Sample.name "The value contains 0 to 1,024 characters and cannot contain
    special characters (!<>=&"')."""
    if len(name) > SAMPLE_NAME_MAX:
        raise rule_error(f"must be at most {SAMPLE_NAME_MAX} characters (got {len(name)})")
    found = _NAME_FORBIDDEN.search(name)
    if found:
        raise rule_error(f"must not contain any of {SAMPLE_NAME_FORBIDDEN} (found {found.group()!r})")
    return name


def check_encoding(encoding: str) -> str:
    """UTF-8, GBK or GB2312, any letter case; returns the canonical spelling the service documents.

    Source: UploadSamplesJson, Sample.encoding "The value can be UTF-8, GBK, or GB2312."
    """
    for known in ENCODINGS:
        if encoding.strip().upper() == known:
            return known
    raise rule_error(f"must be one of {', '.join(ENCODINGS)}")


def check_separator(value: str) -> str:
    """Exactly one character.

    Source: UploadSamplesJson, LabelFormat.text_label_separator / text_sample_separator "The separator can
    contain only one character, such as a letter, a digit, or any of the following special characters:
    !@#$%^&*_=|?/':.;," -- the characters after "such as" are examples, so any single character passes
    (the documented default of text_sample_separator, a tab, is one of those the list does not name).
    """
    if len(value) != 1:
        raise rule_error(f"must be exactly one character (got {len(value)})")
    return value


def check_image_size(size: list[int]) -> list[int]:
    """``@modelarts:size``: [width, height] or [width, height, depth].

    Source: UploadSamplesJson, SampleMetadata "@modelarts:size": "the first number indicates the width
    (pixels), the second number indicates the height (pixels), and the third number indicates the depth
    (the depth can be left blank ...). For example, [100,200,3] and [100,200] are both valid." The pages
    set no range, so zero or negative numbers are left to the service.
    """
    if len(size) not in (2, 3):
        raise rule_error("must be [width, height] or [width, height, depth]")
    return size


def time_to_ms(value: str) -> int | None:
    """Milliseconds of an ``hh:mm:ss.SSS`` time, or None when it is not in that format."""
    match = _TIME.fullmatch(value)
    if match is None:
        return None
    hours, minutes, seconds, millis = (int(g) for g in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def check_time(value: str) -> str:
    """Source: SampleLabelProperty "@modelarts:start_time" / "@modelarts:end_time" "in the format of
    hh:mm:ss.SSS. (hh indicates hour; mm indicates minute; ss indicates second; and SSS indicates
    millisecond.)" -- so minutes and seconds are 00-59. The pages do not order start and end: not checked."""
    if time_to_ms(value) is None:
        raise rule_error("must be a time in the format hh:mm:ss.SSS (e.g. 00:01:02.500)")
    return value


def check_hard_flag(value: str) -> str:
    """``@modelarts:hard`` of a label: the strings 0, 1, false or true.

    Source: SampleLabelProperty "@modelarts:hard" "Options: 0/false: not a hard example; 1/true: hard
    example".
    """
    if value.strip().lower() not in ("0", "1", "true", "false"):
        raise rule_error("must be 0, 1, true or false")
    return value


def check_hard_reasons(value: str) -> str:
    """``@modelarts:hard_reasons`` of a label: reason IDs joined by hyphens, e.g. ``3-20-21-19``.

    Source: SampleLabelProperty "@modelarts:hard_reasons" "Use a hyphen (-) to separate every two hard
    sample reason IDs, for example, 3-20-21-19."
    """
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


# Source: SampleLabelProperty "@modelarts:feature", "The format of each shape is as follows": bndbox, line
# and dashed "consists of two points", point "consists of one point", polygon and polyline "consists of
# multiple points" (multiple: at least two; the pages ask no more of a polygon than of a polyline).
_POINT_COUNTS: Final[dict[Shape, tuple[int, int | None, str]]] = {
    Shape.BNDBOX: (2, 2, "bndbox must be two points [[x1, y1], [x2, y2]]"),
    Shape.LINE: (2, 2, "line must be two points [[x1, y1], [x2, y2]]"),
    Shape.DASHED: (2, 2, "dashed must be two points [[x1, y1], [x2, y2]]"),
    Shape.POINT: (1, 1, "point must be one point [[x, y]]"),
    Shape.POLYGON: (2, None, "polygon needs at least 2 points"),
    Shape.POLYLINE: (2, None, "polyline needs at least 2 points"),
}


def _points(feature: Any) -> list[list[int | float]]:
    """The feature as a list of lists of numbers, numbers keeping their JSON type (ints stay ints)."""
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
        points.append(list(point))
    return points


def _check_coordinates(points: list[list[int | float]]) -> None:
    # Source: "Each coordinate point is represented by [x, y] ... (both x and y are >=0)."
    for i, point in enumerate(points):
        if any(value < 0 for value in point):
            raise rule_error(f"point {i}: coordinates must be >= 0")


def _check_bndbox(points: list[list[int | float]]) -> None:
    # Source: bndbox "the x-coordinate of the first point must be less than the x-coordinate of the second
    # point" (both editions). The y order: UploadSamplesJson and UpdateWorkforceTaskSamples (001) say "the
    # y-coordinate of the first point must be less than the y-coordinate of the second point", UpdateSamples
    # and 004 say "the Y coordinate of the second point must be smaller than that of the first point".
    # Either edition's order is accepted; only equal y (refused by both) is an error.
    (x1, y1), (x2, y2) = points
    if not x1 < x2:
        raise rule_error("bndbox first point must be left of the second (x1 < x2)")
    if y1 == y2:
        raise rule_error("bndbox points must differ in y (a rectangle has a height)")


def check_feature(feature: Any, shape: Any) -> list[list[int | float]]:
    """``@modelarts:feature``: the shape's points (see the sources next to each check).

    ``shape`` is the label's ``@modelarts:shape`` (a :class:`Shape`, or None / an unknown string, in which
    case only the coordinates are checked).
    """
    points = _points(feature)
    if shape == Shape.CIRCLE:
        # Source: circle "consists of the center and radius, for example, [[100,100],[50]]". The radius is
        # not a coordinate point: the pages give it no range.
        if len(points) != 2 or len(points[0]) != 2 or len(points[1]) != 1:
            raise rule_error("circle must be [[x, y], [radius]]")
        _check_coordinates(points[:1])
        return points
    _check_coordinates(points)
    if isinstance(shape, Shape):
        low, high, message = _POINT_COUNTS[shape]
        if len(points) < low or (high is not None and len(points) > high):
            raise rule_error(message)
        for i, point in enumerate(points):
            if len(point) != 2:
                raise rule_error(f"point {i} must be [x, y]")
        if shape == Shape.BNDBOX:
            _check_bndbox(points)
    elif any(len(p) not in (1, 2) for p in points):
        raise rule_error("must be a list of [x, y] points")
    return points
