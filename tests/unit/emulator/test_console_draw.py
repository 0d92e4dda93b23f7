"""emulator/console_draw.py: how the console draws each shape of the pages, and what it does with the rest."""

from __future__ import annotations

import re
from typing import Any

import pytest

from modelarts_emulator.console_draw import draws_on_image, label_list, sample_svg


def _label(name: str, shape: str | None = None, feature: Any = None, **prop: Any) -> dict[str, Any]:
    properties = dict(prop)
    if shape is not None:
        properties.update({"@modelarts:shape": shape, "@modelarts:feature": feature})
    return {"name": name, "type": 1, "property": properties}


@pytest.mark.parametrize(
    ("shape", "feature", "element"),
    [
        # bndbox: upper left and lower right corner; drawn from whichever corner comes first.
        ("bndbox", [[0, 10], [50, 95]], '<rect x="0" y="10" width="50" height="85"'),
        ("bndbox", [[50, 95], [0, 10]], '<rect x="0" y="10" width="50" height="85"'),
        ("polygon", [[0, 100], [50, 95], [10, 60]], '<polygon points="0,100 50,95 10,60"'),
        ("polyline", [[0, 1], [2, 3]], '<polyline points="0,1 2,3"'),
        ("circle", [[100, 100], [50]], '<circle cx="100" cy="100" r="50"'),
        ("line", [[0, 100], [50, 95]], '<line x1="0" y1="100" x2="50" y2="95"'),
        ("dashed", [[0, 100], [50, 95]], 'stroke-dasharray="'),
        ("point", [[0, 100]], '<circle cx="0" cy="100"'),
    ],
)
def test_each_shape_of_the_pages_is_drawn_where_its_feature_says(
    shape: str, feature: Any, element: str
) -> None:
    svg = sample_svg("a.jpg", [_label("cat", shape, feature)], {"@modelarts:size": [200, 150, 3]})
    assert 'viewBox="0 0 200 150"' in svg
    group = re.search(r'<g class="label" data-name="cat" data-shape="(\w+)">(.*?)</g>', svg)
    assert group is not None and group.group(1) == shape
    assert element in group.group(2)


def test_labels_without_a_shape_or_with_an_unreadable_feature_become_tags() -> None:
    labels = [
        {"name": "cat", "type": 0},
        _label("dog", "bndbox", [[1, 2]]),  # one point: no box to draw
        _label("bird", "hexagon", [[1, 2], [3, 4]]),  # not a shape of the pages
    ]
    svg = sample_svg("a.jpg", labels, None)
    assert re.findall(r'data-name="(\w+)" data-shape="tag"', svg) == ["cat", "dog", "bird"]
    assert 'viewBox="0 0 100 100"' in svg  # no size in the metadata: a default canvas


def test_canvas_without_a_size_grows_to_hold_the_shapes() -> None:
    svg = sample_svg("a.jpg", [_label("cat", "bndbox", [[10, 10], [300, 200]])], {})
    width, height = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())  # type: ignore[union-attr]
    assert width >= 300 and height >= 200


def test_names_are_escaped_and_colours_are_taken_from_the_label() -> None:
    svg = sample_svg(
        '<script>alert("x")</script>',
        [_label("<b>", "point", [[1, 1]], **{"@modelarts:color": "#00ff00"})],
        {},
    )
    assert "<script>" not in svg and "<b>" not in svg
    assert 'fill="#00ff00"' in svg
    assert "<script>" not in label_list([{"name": "<script>", "type": 0}])


def test_text_and_speech_labels_are_listed_with_what_places_them() -> None:
    html = label_list(
        [
            {"name": "speaker", "type": 202, "property": {"@modelarts:start_time": "00:00:01.000",
                                                          "@modelarts:end_time": "00:00:02.500",
                                                          "@modelarts:source": "narrator"}},
            {"name": "positive", "type": 100, "score": 0.9},
        ]
    )  # fmt: skip
    assert (
        "speech start/end point; start_time: 00:00:01.000; end_time: 00:00:02.500; source: narrator" in html
    )
    assert "text classification; score 0.9" in html
    assert label_list([]) == '<p class="muted">no labels</p>'


def test_what_counts_as_an_image() -> None:
    assert draws_on_image(0, 100, [])  # an image sample in any dataset
    assert draws_on_image(None, 1, [])  # a sample of an object detection dataset
    assert draws_on_image(None, 900, [_label("x", "point", [[1, 1]])])  # labels with a shape
    assert not draws_on_image(1, 100, [{"name": "positive", "type": 100}])
