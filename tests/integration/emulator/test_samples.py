"""Per-item outcomes of the batch APIs and the sample lists, as the pages describe them."""

from __future__ import annotations

import hashlib
import json

import pytest

from airflow_provider_modelarts.errors import ModelArtsAPIError
from integration.emulator._helpers import image
from modelarts_emulator import DEFAULT_PROJECT_ID
from modelarts_emulator.testing import EmulatorServer

SAMPLES = f"/v2/{DEFAULT_PROJECT_ID}/datasets/ds-images/data-annotations/samples"
TASK_SAMPLES = f"/v2/{DEFAULT_PROJECT_ID}/datasets/ds-images/workforce-tasks/task-1/data-annotations/samples"
MAX_BYTES = 12_582_912


def sid(name: str) -> str:
    return hashlib.md5(f"ds-images/{name}".encode()).hexdigest()


def test_oversized_data_fails_alone_with_4656(emulator: EmulatorServer) -> None:
    # The client refuses oversized samples before sending, so the raw body goes through send_raw.
    too_big = "A" * ((MAX_BYTES + 3) // 3 * 4 + 4)  # decodes to just over 12,582,912 bytes
    just_right = "A" * (MAX_BYTES // 3 * 4)  # decodes to exactly 12,582,912 bytes
    body = json.dumps(
        {"samples": [{"name": "big.jpg", "data": too_big}, {"name": "max.jpg", "data": just_right}]}
    ).encode()
    with emulator.client() as client:
        answer = client.send_raw("POST", SAMPLES, json_body=body).json()
    assert answer["success"] is False
    big, fits = answer["results"]
    assert (big["success"], big["error_code"]) == (False, "ModelArts.4656")
    assert "12,582,912" in big["error_msg"]
    assert fits["success"] is True
    names = [s["sample_name"] for s in emulator.admin.samples("ds-images")]
    assert "max.jpg" in names and "big.jpg" not in names


def test_duplicate_names_in_the_dataset_and_in_one_batch_get_4422(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        answer = client.add_samples("ds-images", [image("dup.jpg"), image("dup.jpg"), image("cat-1.jpg")])
    codes = [r.error_code for r in answer.results or []]
    assert codes == [None, "ModelArts.4422", "ModelArts.4422"]
    assert answer.results is not None and answer.results[0].info == sid("dup.jpg")


def test_an_invalid_sample_fails_alone_naming_the_field(emulator: EmulatorServer) -> None:
    body = {"samples": [image("ok.jpg"), {"name": "bad.jpg", "labels": [{"name": "cat", "score": 7}]}]}
    with emulator.client() as client:
        answer = client.send_raw("POST", SAMPLES, json_body=body).json()
    assert [r["success"] for r in answer["results"]] == [True, False]
    # The error table's generic row "Parameter error." (4396's row is about import task parameters).
    assert answer["results"][1]["error_code"] == "ModelArts.0104"
    assert "labels[0].score" in answer["results"][1]["error_msg"]


def test_a_body_that_is_not_a_json_object_is_a_400(emulator: EmulatorServer) -> None:
    with emulator.client() as client, pytest.raises(ModelArtsAPIError) as error:
        client.send_raw("POST", SAMPLES, json_body=b"[1, 2]")
    assert (error.value.status, error.value.error_code) == (400, "ModelArts.0104")


def test_final_annotation_false_keeps_labels_to_be_confirmed(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        client.add_samples("ds-images", [image("pre.jpg", label="cat")], final_annotation=False)
        pending = client.list_samples("ds-images", sample_state="__AUTO_ANNOTATION__")
        assert [s.sample_id for s in pending.samples or []] == [sid("pre.jpg")]
        assert client.list_samples("ds-images", sample_state="__ALL__").sample_count == 0
        client.update_samples("ds-images", [{"sample_id": sid("pre.jpg"), "labels": [{"name": "cat"}]}])
        assert client.list_samples("ds-images", sample_state="__ALL__").sample_count == 1


def test_unknown_sample_ids_fail_per_item_with_4420(emulator: EmulatorServer) -> None:
    known = sid("cat-1.jpg")
    items = [
        {"sample_id": "0" * 32, "labels": [{"name": "cat"}]},
        {"sample_id": known, "labels": [{"name": "dog"}]},
    ]
    with emulator.client() as client:
        dataset = client.update_samples("ds-images", items)
        task = client.update_workforce_task_samples("ds-images", "task-1", items)
    for answer in (dataset, task):
        assert answer.success is False
        assert [r.error_code for r in answer.results or []] == ["ModelArts.4420", None]
    row = next(s for s in emulator.admin.samples("ds-images") if s["sample_id"] == known)
    assert row["labels"] == [{"name": "dog"}]
    assert row["tasks"]["task-1"]["labels"] == [{"name": "dog"}]


def test_missing_labels_delete_the_sample_labels(emulator: EmulatorServer) -> None:
    target = sid("dog-1.jpg")
    with emulator.client() as client:
        client.update_samples("ds-images", [{"sample_id": target, "labels": [{"name": "dog"}]}])
        client.update_samples("ds-images", [{"sample_id": target}])
        client.update_workforce_task_samples("ds-images", "task-1", [{"sample_id": target}])
        in_task = client.list_workforce_task_samples("ds-images", "task-1", sample_state="__NONE__")
    row = next(s for s in emulator.admin.samples("ds-images") if s["sample_id"] == target)
    assert row["labels"] == [] and row["sample_status"] == "UN_ANNOTATION"
    assert row["tasks"]["task-1"]["state"] == "UN_ANNOTATION"
    assert [s.sample_id for s in in_task.samples or []] == [target]


def test_unknown_worker_in_a_team_update_fails_per_item(emulator: EmulatorServer) -> None:
    item = {"sample_id": sid("cat-2.jpg"), "labels": [{"name": "cat"}], "worker_id": "stranger"}
    with emulator.client() as client:
        answer = client.update_workforce_task_samples("ds-images", "task-1", [item])
    assert answer.results is not None and answer.results[0].error_code == "ModelArts.4604"


def test_paging_limit_offset_order_and_filters(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        newest_first = client.list_samples("ds-images", limit=4, offset=0)
        assert newest_first.sample_count == 6
        assert [s.sample_name for s in newest_first.samples or []] == [
            "dog-3.jpg",
            "dog-2.jpg",
            "dog-1.jpg",
            "cat-3.jpg",
        ]
        second_page = client.list_samples("ds-images", limit=4, offset=1)  # offset counts pages
        assert [s.sample_name for s in second_page.samples or []] == ["cat-2.jpg", "cat-1.jpg"]
        oldest = client.list_samples("ds-images", limit=1, order="asc")
        assert [s.sample_name for s in oldest.samples or []] == ["cat-1.jpg"]
        cats = client.list_workforce_task_samples("ds-images", "task-1", label_name="cat")
        assert cats.sample_count == 3
        for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"sample_state": "__BOGUS__"}):
            with pytest.raises(ModelArtsAPIError) as error:
                client.send_raw("GET", SAMPLES, params=bad)
            assert (error.value.status, error.value.error_code) == (400, "ModelArts.0104")
            assert next(iter(bad)) in (error.value.error_msg or "")


def test_every_bad_sample_parameter_is_0104_naming_it(emulator: EmulatorServer) -> None:
    """The generic "Parameter error." row for every bad parameter of the sample calls, request or item."""
    item_problems = [
        ("POST", SAMPLES, {"samples": [{"name": "x.jpg", "sample_type": "x"}]}, "sample_type"),
        ("POST", SAMPLES, {"samples": ["not-an-object"]}, "samples[0]"),
        ("PUT", SAMPLES, {"samples": [{"sample_id": sid("cat-1.jpg"), "labels": "cat"}]}, "labels"),
        ("PUT", TASK_SAMPLES, {"samples": [7]}, "samples[0]"),
    ]
    request_problems = [
        ("POST", SAMPLES, {"samples": {"name": "x.jpg"}}, "samples"),
        ("POST", SAMPLES, {"samples": [], "final_annotation": "yes"}, "final_annotation"),
        ("PUT", SAMPLES, b"{not json", "JSON"),
        ("PUT", TASK_SAMPLES, {"samples": "all"}, "samples"),
        ("GET", f"{SAMPLES}?order=sideways", None, "order"),
        ("GET", f"{TASK_SAMPLES}?limit=abc", None, "limit"),
        ("GET", f"{TASK_SAMPLES}?sample_state=__BOGUS__", None, "sample_state"),
    ]
    with emulator.client() as client:
        for method, path, body, name in item_problems:
            (result,) = client.send_raw(method, path, json_body=json.dumps(body).encode()).json()["results"]
            assert (result["success"], result["error_code"]) == (False, "ModelArts.0104"), name
            assert name in result["error_msg"], name
        for method, path, body, name in request_problems:
            raw = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
            with pytest.raises(ModelArtsAPIError) as error:
                client.send_raw(method, path, json_body=raw)
            assert (error.value.status, error.value.error_code) == (400, "ModelArts.0104"), name
            assert name in (error.value.error_msg or ""), name


@pytest.mark.parametrize("path", [SAMPLES, TASK_SAMPLES])
def test_sample_page_cap_answers_short_pages_with_the_full_count(emulator: EmulatorServer, path: str) -> None:
    """Both sample list pages: ``limit`` is the "Maximum number of records returned on each page"."""
    emulator.admin.configure(sample_page_cap=4)
    with emulator.client() as client:

        def page(**query: object) -> tuple[int, list[str]]:
            answer = client.send_raw("GET", path, params={"order": "asc", **query}).json()
            return answer["sample_count"], [s["sample_name"] for s in answer["samples"]]

        names = [f"{kind}-{index}.jpg" for kind in ("cat", "dog") for index in (1, 2, 3)]
        assert page(limit=100) == (6, names[:4])
        assert page(limit=100, offset=1) == (6, names[4:])  # offset counts pages of the capped size
        assert page(limit=3, offset=1) == (6, names[3:])  # a limit under the cap is kept


def test_iter_samples_walks_short_pages_to_the_end(emulator: EmulatorServer) -> None:
    """A page shorter than ``page_size`` is not the last when the pages cap it: the walk follows
    ``sample_count`` (before, it stopped after the first page of 2)."""
    emulator.admin.configure(sample_page_cap=2)
    with emulator.client() as client:
        client.add_samples("ds-images", [image(f"extra-{index}.jpg") for index in range(3)])
        dataset = [s.sample_name for s in client.iter_samples("ds-images", page_size=100, order="asc")]
        in_task = {
            s.sample_id for s in client.iter_workforce_task_samples("ds-images", "task-1", page_size=100)
        }
    seeded = [f"{kind}-{index}.jpg" for kind in ("cat", "dog") for index in (1, 2, 3)]
    names = [*seeded, "extra-0.jpg", "extra-1.jpg", "extra-2.jpg"]
    assert dataset == names
    assert in_task == {sid(name) for name in names}  # task-1 synchronizes new data
    routes = emulator.admin.stats()["routes"]
    # 9 samples in pages of 2: five pages, the last short, then the empty page ends the pass; a second pass
    # reads the same and proves the walk complete (client/_paging.py).
    assert routes["list_samples"]["requests"] == routes["list_workforce_task_samples"]["requests"] == 12
