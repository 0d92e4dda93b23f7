"""ModelArtsHook's bulk operations (hooks/modelarts.py, bulk/operations.py): the idempotency rules of add
samples and update labels.

Only the network edge is mocked (respx); runs against the emulator are in tests/integration.
"""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from unit.hooks._helpers import (
    ENDPOINT,
    PROJECT,
    aksk_conn,
    set_conn,
)

# -- bulk operations: the idempotency rules the hook owns ----------------------------------------------------

SAMPLES_URL = f"{ENDPOINT}/v2/{PROJECT}/datasets/ds-1/data-annotations/samples"


def _names(request: httpx.Request) -> list[str]:
    return [s["name"] for s in json.loads(request.content)["samples"]]


def test_add_samples_resends_a_batch_refused_whole_with_4422_one_sample_at_a_time(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    """Some deployments refuse a whole batch when one sample exists; each sample is then sent alone."""
    set_conn(monkeypatch, aksk_conn())
    exists = {"error_code": "ModelArts.4422", "error_msg": "sample already exists"}

    def answer(request: httpx.Request) -> httpx.Response:
        names = _names(request)
        if len(names) > 1 or names == ["old.jpg"]:
            return httpx.Response(400, json=exists)
        return httpx.Response(200, json={"success": True, "results": [{"success": True, "name": names[0]}]})

    route = mock_router.post(SAMPLES_URL).mock(side_effect=answer)
    samples = [{"name": "new-1.jpg"}, {"name": "old.jpg"}, {"name": "new-2.jpg"}]
    summary = ModelArtsHook().add_samples("ds-1", samples)

    assert [_names(call.request) for call in route.calls] == [
        ["new-1.jpg", "old.jpg", "new-2.jpg"],
        ["new-1.jpg"],
        ["old.jpg"],
        ["new-2.jpg"],
    ]
    assert (summary["added"], summary["already_present"], summary["failed"]) == (2, 1, 0)


def test_add_samples_counts_per_item_4422_as_already_present(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn())
    results = [
        {"success": True, "name": "a.jpg"},
        {"success": False, "name": "b.jpg", "error_code": "ModelArts.4422", "error_msg": "exists"},
        {"success": False, "name": "c.jpg", "error_code": "ModelArts.4656", "error_msg": "too big"},
    ]
    mock_router.post(SAMPLES_URL).mock(
        return_value=httpx.Response(200, json={"success": False, "results": results})
    )
    summary = ModelArtsHook().add_samples("ds-1", [{"name": n} for n in ("a.jpg", "b.jpg", "c.jpg")])
    assert (summary["added"], summary["already_present"], summary["failed"]) == (1, 1, 1)
    assert summary["failures"] == [
        {"name": "c.jpg", "index": 2, "error_code": "ModelArts.4656", "error_msg": "too big"}
    ]


def test_add_samples_refuses_an_invalid_label_format_before_sending(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    from airflow_provider_modelarts.bulk.checks import RunRefused

    set_conn(monkeypatch, aksk_conn())
    route = mock_router.post(SAMPLES_URL)
    with pytest.raises(
        RunRefused, match=r"label_format is invalid, so nothing was sent: label_format\.label_type"
    ):
        ModelArtsHook().add_samples("ds-1", [{"name": "a.jpg"}], label_format={"label_type": "tree"})
    assert not route.called


def test_update_labels_of_a_team_task_fills_in_the_worker_and_refuses_label_deletion(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    from airflow_provider_modelarts.bulk.checks import RunRefused

    set_conn(monkeypatch, aksk_conn())
    url = f"{ENDPOINT}/v2/{PROJECT}/datasets/ds-1/workforce-tasks/wt-1/data-annotations/samples"
    route = mock_router.put(url).mock(return_value=httpx.Response(200, json={"success": True}))
    hook = ModelArtsHook()
    samples = [{"sample_id": "s1", "labels": [{"name": "cat"}]}, {"sample_id": "s2", "worker_id": "own"}]
    with pytest.raises(RunRefused, match=r"1 samples have no labels .*#1 \('s2'\)"):
        hook.update_labels("ds-1", samples, workforce_task_id="wt-1")
    assert not route.called

    summary = hook.update_labels(
        "ds-1",
        samples,
        workforce_task_id="wt-1",
        worker_id="w-9",
        worker_email="a@b.c",
        allow_label_deletion=True,
    )
    body = json.loads(route.calls.last.request.content)
    assert [s["worker_id"] for s in body["samples"]] == ["w-9", "own"]
    assert body["email"] == "a@b.c"
    assert (summary["updated"], summary["label_deletions"], summary["workforce_task_id"]) == (2, 1, "wt-1")
