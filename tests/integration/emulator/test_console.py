"""The emulator's console over real HTTP: what the provider's extra links open in the demo and the tests.

Pages are read with httpx and their HTML parsed with the standard library; the browser tier
(``tests/system/test_browser.py``) opens the same pages from a finished run in Chromium.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from airflow.sdk import Connection

from airflow_provider_modelarts.hooks.connection import ModelArtsConnectionSettings, console_url
from modelarts_emulator import DEFAULT_SECRET_KEY
from modelarts_emulator.records import sample_id_for
from modelarts_emulator.testing import EmulatorServer


class _Drawn(HTMLParser):
    """Every drawn label (``<g class="label">``) with its shape element, per sample card."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "g" and values.get("class") == "label":
            self._open = {"name": values["data-name"], "shape": values["data-shape"], "elements": []}
            self.labels.append(self._open)
        elif self._open is not None and tag in ("rect", "polygon", "circle", "line", "polyline"):
            self._open["elements"].append((tag, values))

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self._open = None


def _drawn(html: str) -> list[dict[str, Any]]:
    parser = _Drawn()
    parser.feed(html)
    return parser.labels


def _get(emulator: EmulatorServer, path: str, **params: Any) -> httpx.Response:
    response = httpx.get(
        emulator.base_url + "/_emulator/console/modelarts/" + path, params=params, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response


def test_the_link_of_an_emulator_connection_opens_its_console(emulator: EmulatorServer) -> None:
    """The emulator's connection line names its console; the link the hook builds from it answers HTML
    that forwards the link's fragment (which never reaches a server) to the dataset's page."""
    connection = emulator.connection_dict()
    assert connection["extra"]["console_url"] == emulator.base_url + "/_emulator/console"
    settings = ModelArtsConnectionSettings.from_connection(
        Connection(
            conn_id="console",
            conn_type="modelarts",
            login=connection["login"],
            password=connection["password"],
            extra=json.dumps(connection["extra"]),
        )
    )
    link = console_url(settings, "ds-images", "task-1")
    page, fragment = link.split("#", 1)
    assert fragment == "/dataLabel?datasetId=ds-images&workforceTaskId=task-1"
    response = httpx.get(page, timeout=30)
    assert response.status_code == 200
    assert "location.replace" in response.text and "workforce-tasks/" in response.text
    rows = re.findall(r'<tr class="dataset" data-dataset-id="([^"]+)"', response.text)
    assert sorted(rows) == ["ds-images", "ds-objects", "ds-text"]
    assert emulator.admin.stats()["total"] == 0  # the console is no API call: never counted, never faulted
    assert DEFAULT_SECRET_KEY not in response.text


def test_dataset_page_draws_boxes_polygons_circles_and_points(emulator: EmulatorServer) -> None:
    html = _get(emulator, "datasets/ds-objects").text
    drawn = _drawn(html)
    assert sorted((label["name"], label["shape"]) for label in drawn) == [
        ("cat", "bndbox"),
        ("cat", "circle"),
        ("cat", "point"),
        ("dog", "bndbox"),
        ("dog", "polygon"),
    ]
    boxes = {label["name"]: label["elements"][0] for label in drawn if label["shape"] == "bndbox"}
    # The seed's living-room.jpg: cat [[64, 210], [250, 420]], dog [[330, 150], [590, 440]] on 640x480.
    assert boxes["cat"] == (
        "rect",
        {**boxes["cat"][1], "x": "64", "y": "210", "width": "186", "height": "210"},
    )
    assert boxes["dog"][1]["x"] == "330" and boxes["dog"][1]["width"] == "260"
    (polygon,) = [label["elements"][0] for label in drawn if label["shape"] == "polygon"]
    assert polygon[1]["points"] == "90,300 210,220 330,260 310,430 120,440"
    (circle,) = [label["elements"][0] for label in drawn if label["shape"] == "circle"]
    assert (circle[1]["cx"], circle[1]["cy"], circle[1]["r"]) == ("480", "170", "70")
    assert 'viewBox="0 0 640 480"' in html  # the canvas is the image's size from its metadata


def test_team_task_page_shows_status_task_labels_and_the_acceptance_report(
    paused_emulator: EmulatorServer,
) -> None:
    emulator = paused_emulator
    with emulator.client() as client:
        client.start_acceptance("ds-images", "task-1", sampling_rate=1.0)
        emulator.admin.advance(steps=20)  # reviewers check every sampled sample
        html = _get(emulator, "datasets/ds-images/workforce-tasks/task-1", region="cn-north-4").text

    assert 'data-status="2"' in html  # ACCEPTING: checked, waiting for the owner's decision
    assert "region cn-north-4" in html
    drawn = _drawn(html)
    # Classification labels have no shape: each sample's label is drawn as a tag on its image.
    assert sorted(label["name"] for label in drawn) == ["cat"] * 3 + ["dog"] * 3
    assert {label["shape"] for label in drawn} == {"tag"}
    report = emulator.admin.task("ds-images", "task-1")["rounds"][0]
    checked = len(report["results"])
    assert f"<td>{checked}/6</td>" in html
    accepted = sum(report["results"].values())
    assert f"{accepted / checked:.1%}" in html


def test_sample_page_and_text_labels_as_lists(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        client.update_samples(
            "ds-text",
            [
                {
                    "sample_id": sample_id_for("ds-text", "review-1.txt"),
                    "labels": [
                        {
                            "name": "product",
                            "type": 101,
                            "property": {
                                "@modelarts:start_index": 4,
                                "@modelarts:end_index": 10,
                                "@modelarts:content": "kettle",
                            },
                        }
                    ],
                }
            ],
        )
    sample_id = sample_id_for("ds-text", "review-1.txt")
    html = _get(emulator, f"datasets/ds-text/samples/{sample_id}").text
    assert "<svg" not in html  # text is listed, not drawn
    assert re.search(
        r'data-name="product".*named entity; content: kettle; start_index: 4; end_index: 10', html
    )


@pytest.mark.parametrize(
    "path", ["datasets/nope", "datasets/ds-images/samples/nope", "datasets/ds-images/workforce-tasks/nope"]
)
def test_unknown_pages_answer_404_in_html(emulator: EmulatorServer, path: str) -> None:
    response = httpx.get(emulator.base_url + "/_emulator/console/modelarts/" + path, timeout=30)
    assert response.status_code == 404
    assert "does not exist" in response.text
