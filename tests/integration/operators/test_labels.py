"""UpdateLabelsOperator against the emulator: dataset and team-task updates, deletion guard, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.seed import DEFAULT_TASK_ID as TASK
from modelarts_emulator.testing import EmulatorServer

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")


def rows(emulator: EmulatorServer) -> dict[str, dict[str, Any]]:
    return {s["sample_name"]: s for s in emulator.admin.samples(DS)}


def ids(emulator: EmulatorServer) -> dict[str, str]:
    return {name: row["sample_id"] for name, row in rows(emulator).items()}


def requests(emulator: EmulatorServer) -> int:
    return int(emulator.admin.stats()["total"])


def relabel(sample_id: str, label: str = "dog", **extra: Any) -> dict[str, Any]:
    return {"sample_id": sample_id, "labels": [{"name": label, "type": 0}], **extra}


def test_dataset_labels_from_a_list(emulator: EmulatorServer) -> None:
    sample_ids = ids(emulator)
    samples = [relabel(sample_ids[f"cat-{i}.jpg"], "dog") for i in (1, 2, 3)]
    result = UpdateLabelsOperator(task_id="fix", dataset_id=DS, samples=samples, batch_size=2).execute(
        context={}
    )
    assert (result["updated"], result["failed"], result["batches"]) == (3, 0, 2)
    assert result["workforce_task_id"] is None and result["label_deletions"] == 0
    after = rows(emulator)
    assert all(after[f"cat-{i}.jpg"]["labels"][0]["name"] == "dog" for i in (1, 2, 3))
    json.dumps(result)


def test_dataset_labels_from_a_manifest(emulator: EmulatorServer, tmp_path: Path) -> None:
    sample_ids = ids(emulator)
    manifest = tmp_path / "fix.jsonl"
    manifest.write_text(
        "\n".join(
            json.dumps(relabel(sample_ids[f"dog-{i}.jpg"], "cat", sample_usage="TRAIN")) for i in (1, 2)
        )
    )
    result = UpdateLabelsOperator(task_id="fix", dataset_id=DS, manifest=str(manifest)).execute(context={})
    assert result["updated"] == 2 and "JSON Lines" in result["source"]
    after = rows(emulator)
    assert [after[f"dog-{i}.jpg"]["labels"][0]["name"] for i in (1, 2)] == ["cat", "cat"]


def test_team_task_labels_with_worker_defaults(emulator: EmulatorServer) -> None:
    sample_ids = ids(emulator)
    samples = [
        relabel(sample_ids["cat-1.jpg"], "dog"),
        relabel(sample_ids["cat-2.jpg"], "dog", worker_id="worker-ann"),
    ]
    op = UpdateLabelsOperator(
        task_id="fix",
        dataset_id=DS,
        workforce_task_id=TASK,
        samples=samples,
        worker_id="worker-bob",
        worker_email="bob@example.com",
    )
    result = op.execute(context={})
    assert result["updated"] == 2 and result["workforce_task_id"] == TASK
    task_rows = {name: row["tasks"][TASK] for name, row in rows(emulator).items()}
    assert task_rows["cat-1.jpg"]["labels"][0]["name"] == "dog"
    assert task_rows["cat-1.jpg"]["worker_id"] == "worker-bob"  # filled in from worker_id=
    assert task_rows["cat-2.jpg"]["worker_id"] == "worker-ann"  # the sample's own wins
    assert rows(emulator)["cat-1.jpg"]["labels"] == []  # the dataset itself is untouched
    assert emulator.admin.stats()["routes"]["update_workforce_task_samples"]["requests"] == 1
    assert op.console_links["workforce_task"].endswith(f"workforceTaskId={TASK}")


@pytest.mark.parametrize("on_failure", ["warn", "fail"])
def test_unknown_sample_ids_fail_per_sample(emulator: EmulatorServer, on_failure: str) -> None:
    sample_ids = ids(emulator)
    samples = [
        relabel(sample_ids["cat-1.jpg"]),
        relabel("no-such-sample-1"),
        relabel(sample_ids["cat-2.jpg"]),
        relabel("no-such-sample-2"),
        relabel(sample_ids["cat-3.jpg"]),
    ]
    op = UpdateLabelsOperator(
        task_id="fix", dataset_id=DS, samples=samples, batch_size=2, max_concurrency=1, on_failure=on_failure
    )
    if on_failure == "warn":
        result = op.execute(context={})
        assert (result["updated"], result["failed"]) == (3, 2)
        assert [(f["index"], f["sample_id"], f["error_code"]) for f in result["failures"]] == [
            (1, "no-such-sample-1", "ModelArts.4420"),
            (3, "no-such-sample-2", "ModelArts.4420"),
        ]
        assert result["failure_codes"] == {"ModelArts.4420": 2}
    else:
        with pytest.raises(AirflowException) as info:
            op.execute(context={})
        message = str(info.value)
        assert "2 of 5 samples failed in dataset ds-images" in message
        assert "#1 ('no-such-sample-1'): ModelArts.4420" in message
        assert "#3 ('no-such-sample-2'): ModelArts.4420" in message
    # Every batch ran, including the one after the first failure.
    assert all(rows(emulator)[f"cat-{i}.jpg"]["labels"][0]["name"] == "dog" for i in (1, 2, 3))


@pytest.mark.parametrize("shape", ["missing", "null", "empty list"])
def test_deletion_guard_refuses_and_names_the_samples(emulator: EmulatorServer, shape: str) -> None:
    sample_ids = ids(emulator)
    doomed = {"sample_id": sample_ids["dog-1.jpg"]}
    if shape == "null":
        doomed["labels"] = None  # type: ignore[assignment]
    elif shape == "empty list":
        doomed["labels"] = []  # type: ignore[assignment]
    samples = [relabel(sample_ids["cat-1.jpg"]), doomed]
    with pytest.raises(AirflowFailException) as info:
        UpdateLabelsOperator(task_id="fix", dataset_id=DS, workforce_task_id=TASK, samples=samples).execute(
            context={}
        )
    message = str(info.value)
    assert f"#1 ('{sample_ids['dog-1.jpg']}')" in message
    assert "allow_label_deletion=True" in message and "Nothing was sent" in message
    assert requests(emulator) == 0


def test_deletion_allowed_deletes_the_labels(emulator: EmulatorServer) -> None:
    sample_ids = ids(emulator)
    assert rows(emulator)["dog-1.jpg"]["tasks"][TASK]["labels"]  # seeded with a label
    samples = [{"sample_id": sample_ids["dog-1.jpg"]}, relabel(sample_ids["cat-1.jpg"])]
    result = UpdateLabelsOperator(
        task_id="fix", dataset_id=DS, workforce_task_id=TASK, samples=samples, allow_label_deletion=True
    ).execute(context={})
    assert result["updated"] == 2 and result["label_deletions"] == 1
    after = rows(emulator)
    assert after["dog-1.jpg"]["tasks"][TASK]["labels"] == []
    assert after["cat-1.jpg"]["tasks"][TASK]["labels"][0]["name"] == "dog"


def test_invalid_updates_name_the_field_and_send_nothing(emulator: EmulatorServer) -> None:
    sample_ids = ids(emulator)
    samples = [
        {"labels": [{"name": "cat"}]},  # no sample_id
        relabel(sample_ids["cat-1.jpg"], sample_usage="TRAINING"),
        relabel(sample_ids["cat-2.jpg"]),
        relabel(sample_ids["cat-2.jpg"]),  # the same sample twice
        {"sample_id": sample_ids["cat-3.jpg"], "labels": [{"name": "cat", "annotated_by": "robot"}]},
    ]
    with pytest.raises(AirflowFailException) as info:
        UpdateLabelsOperator(task_id="fix", dataset_id=DS, samples=samples).execute(context={})
    message = str(info.value)
    assert "sample #0: sample_id: is required" in message
    assert f"sample #1 ('{sample_ids['cat-1.jpg']}'): sample_usage" in message
    assert f"sample #3 ('{sample_ids['cat-2.jpg']}'): sample_id: duplicate sample_id" in message
    assert f"sample #4 ('{sample_ids['cat-3.jpg']}'): labels[0].annotated_by" in message
    assert requests(emulator) == 0
