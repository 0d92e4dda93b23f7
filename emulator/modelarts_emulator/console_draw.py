"""How the emulator's console shows labels: image labels drawn as inline SVG, text and speech labels as lists.

Shapes and coordinates follow SampleLabelProperty on the update-samples page (``000_...txt``):
``@modelarts:shape`` is ``bndbox``, ``polygon``, ``circle``, ``line``, ``dashed``, ``point`` or ``polyline``;
``@modelarts:feature`` holds ``[x, y]`` points with the image's upper left corner as ``[0, 0]`` (a circle is
``[[x, y], [r]]``); ``@modelarts:size`` in the sample metadata is ``[width, height(, depth)]``. The console
shows what the service stored, so it reads leniently: a feature it cannot draw is listed, not refused, and
labels without a shape (classification) are drawn as tags on the image.

The emulator keeps no image bytes (a sample's ``data`` is checked, counted and dropped), so the "image" is a
neutral canvas of the image's size with the sample's name on it; what matters here is where the labels are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from html import escape
from typing import Any

__all__ = ["LABEL_TYPES", "draws_on_image", "label_list", "sample_svg"]

#: Label and dataset types from the pages (the same codes name both).
LABEL_TYPES = {
    0: "image classification",
    1: "object detection",
    3: "image segmentation",
    100: "text classification",
    101: "named entity",
    102: "text triplet",
    200: "sound classification",
    201: "speech content",
    202: "speech start/end point",
    400: "table",
    600: "video",
    900: "free format",
}
_IMAGE_TYPES = frozenset({0, 1, 3})
_PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324", "#800000")
# Properties worth showing beside a label's name in a list, in this order.
_LISTED = (
    "@modelarts:content",
    "@modelarts:start_index",
    "@modelarts:end_index",
    "@modelarts:start_time",
    "@modelarts:end_time",
    "@modelarts:source",
    "@modelarts:from",
    "@modelarts:to",
    "@modelarts:shape",
    "@modelarts:feature",
)


def _colour(label: dict[str, Any]) -> str:
    prop = label.get("property") or {}
    colour = prop.get("@modelarts:color") if isinstance(prop, dict) else None
    if isinstance(colour, str) and colour.startswith("#") and len(colour) in (4, 7):
        return colour
    digest = hashlib.md5(str(label.get("name", "")).encode(), usedforsecurity=False).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _points(feature: Any) -> list[tuple[float, float]]:
    """The ``[x, y]`` points of a feature; anything else in it is left out."""
    points = []
    for point in feature if isinstance(feature, list) else []:
        if isinstance(point, list) and len(point) >= 2:
            x, y = _number(point[0]), _number(point[1])
            if x is not None and y is not None:
                points.append((x, y))
    return points


def _shape(label: dict[str, Any]) -> tuple[str | None, Any]:
    prop = label.get("property")
    if not isinstance(prop, dict):
        return None, None
    shape = prop.get("@modelarts:shape")
    return (shape if isinstance(shape, str) and shape else None), prop.get("@modelarts:feature")


def draws_on_image(sample_type: Any, dataset_type: Any, labels: Iterable[dict[str, Any]]) -> bool:
    """Whether a sample is an image: its own type (0), its dataset's type, or labels with a shape."""
    if sample_type == 0 or dataset_type in _IMAGE_TYPES:
        return True
    return any(_shape(label)[0] for label in labels)


def _canvas(metadata: Any, labels: list[dict[str, Any]]) -> tuple[float, float]:
    size = metadata.get("@modelarts:size") if isinstance(metadata, dict) else None
    if isinstance(size, list) and len(size) >= 2:
        width, height = _number(size[0]), _number(size[1])
        if width and height and width > 0 and height > 0:
            return width, height
    extent_x, extent_y = 100.0, 100.0
    for label in labels:
        shape, feature = _shape(label)
        points = _points(feature)
        if shape == "circle" and points and isinstance(feature, list) and len(feature) > 1:
            radius = _number((feature[1] or [0])[0]) if isinstance(feature[1], list) else None
            points = [(points[0][0] + (radius or 0), points[0][1] + (radius or 0))]
        for x, y in points:
            extent_x, extent_y = max(extent_x, x * 1.1), max(extent_y, y * 1.1)
    return extent_x, extent_y


def _shape_svg(shape: str, feature: Any, colour: str, stroke: float) -> str | None:
    points = _points(feature)
    style = f'fill="{colour}" fill-opacity="0.12" stroke="{colour}" stroke-width="{stroke:g}"'
    if shape == "bndbox" and len(points) >= 2:
        (x1, y1), (x2, y2) = points[0], points[1]
        x, y = min(x1, x2), min(y1, y2)
        return f'<rect x="{x:g}" y="{y:g}" width="{abs(x2 - x1):g}" height="{abs(y2 - y1):g}" {style}/>'
    if shape in ("polygon", "polyline") and len(points) >= 2:
        coords = " ".join(f"{x:g},{y:g}" for x, y in points)
        if shape == "polyline":
            style = style.replace('fill-opacity="0.12"', 'fill-opacity="0"')
        return f'<{shape} points="{coords}" {style}/>'
    if shape in ("line", "dashed") and len(points) >= 2:
        (x1, y1), (x2, y2) = points[0], points[1]
        dash = f' stroke-dasharray="{stroke * 3:g} {stroke * 2:g}"' if shape == "dashed" else ""
        return f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" {style}{dash}/>'
    if shape == "circle" and points and isinstance(feature, list) and len(feature) > 1:
        radius = _number(feature[1][0]) if isinstance(feature[1], list) and feature[1] else None
        if radius is not None and radius > 0:
            (cx, cy) = points[0]
            return f'<circle cx="{cx:g}" cy="{cy:g}" r="{radius:g}" {style}/>'
    if shape == "point" and points:
        (cx, cy) = points[0]
        return f'<circle cx="{cx:g}" cy="{cy:g}" r="{stroke * 2:g}" fill="{colour}" stroke="white"/>'
    return None


def sample_svg(name: str, labels: list[dict[str, Any]] | None, metadata: Any, *, width_px: int = 320) -> str:
    """The sample as an SVG canvas with every label drawn on it: shapes where they are, tags for the rest.

    Each label is a ``<g class="label">`` carrying ``data-name`` and ``data-shape`` (``tag`` for a label
    without a shape), so a reader (or a browser test) can find what was drawn.
    """
    labels = [label for label in labels or [] if isinstance(label, dict)]
    width, height = _canvas(metadata, labels)
    unit = max(width, height) / 100  # strokes and text scale with the image, not with the page
    stroke, font = max(unit * 0.8, 0.5), max(unit * 5, 3)
    parts = [
        f'<svg class="sample" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="{width_px}" height="{round(width_px * height / width)}" role="img" '
        f'aria-label="{escape(name)} with {len(labels)} label(s)">',
        f'<rect class="image" width="{width:g}" height="{height:g}" fill="#eef1f4" stroke="#c5ccd3" '
        f'stroke-width="{stroke:g}"/>',
        f'<text x="{width / 2:g}" y="{height / 2:g}" font-size="{font:g}" fill="#9aa4ae" '
        f'text-anchor="middle">{escape(name)}</text>',
    ]
    tags = 0
    for label in labels:
        label_name = escape(str(label.get("name", "")))
        colour = _colour(label)
        shape, feature = _shape(label)
        drawn = _shape_svg(shape, feature, colour, stroke) if shape else None
        if drawn is not None:
            x, y = (_points(feature) or [(0.0, 0.0)])[0]
            if shape == "bndbox" and len(_points(feature)) >= 2:
                x, y = min(p[0] for p in _points(feature)[:2]), min(p[1] for p in _points(feature)[:2])
            caption = (
                f'<text x="{x:g}" y="{max(y - stroke, font):g}" font-size="{font:g}" '
                f'fill="{colour}">{label_name}</text>'
            )
            parts.append(
                f'<g class="label" data-name="{label_name}" data-shape="{escape(shape or "")}">'
                f"{drawn}{caption}</g>"
            )
            continue
        # No shape (classification), or one this console cannot draw: a tag in the upper left corner.
        top = font * 0.4 + tags * font * 1.6
        tags += 1
        tag_width = font * (0.62 * len(str(label.get("name", ""))) + 1)
        parts.append(
            f'<g class="label" data-name="{label_name}" data-shape="tag">'
            f'<rect x="{font * 0.4:g}" y="{top:g}" width="{tag_width:g}" height="{font * 1.4:g}" '
            f'rx="{font * 0.3:g}" fill="{colour}"/>'
            f'<text x="{font * 0.9:g}" y="{top + font * 1.05:g}" font-size="{font:g}" fill="white">'
            f"{label_name}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _property_text(key: str, value: Any) -> str:
    return f"{key.removeprefix('@modelarts:')}: {value}"


def label_list(labels: list[dict[str, Any]] | None) -> str:
    """Labels as an HTML list: name, type, score, and the properties that place them (text span, time)."""
    items = []
    for label in labels or []:
        if not isinstance(label, dict):
            continue
        details = []
        label_type = label.get("type")
        if label_type in LABEL_TYPES:
            details.append(LABEL_TYPES[label_type])
        if label.get("score") is not None:
            details.append(f"score {label['score']}")
        prop = label.get("property")
        if isinstance(prop, dict):
            details += [_property_text(key, prop[key]) for key in _LISTED if prop.get(key) not in (None, "")]
        colour = _colour(label)
        items.append(
            f'<li class="label-item" data-name="{escape(str(label.get("name", "")))}">'
            f'<span class="swatch" style="background:{colour}"></span><b>{escape(str(label.get("name", "")))}'
            f"</b> {escape('; '.join(str(d) for d in details))}</li>"
        )
    if not items:
        return '<p class="muted">no labels</p>'
    return f'<ul class="labels">{"".join(items)}</ul>'
