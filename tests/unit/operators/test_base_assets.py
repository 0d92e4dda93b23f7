"""Asset events of the operators: which alias each declares when the DAG is parsed, what a successful try
adds to it (and with which ``extra``), and that a rejected acceptance announces nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from airflow.sdk import Asset, AssetAlias
from airflow.sdk.execution_time.context import OutletEventAccessors
from airflow.serialization.serialized_objects import LazyDeserializedDAG

from unit.hooks._helpers import UNIT_ENDPOINT, set_unit_conn

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1 keeps DagBag in airflow.models
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.base import (
    LABELS_ACCEPTED_ALIAS,
    LABELS_UPDATED_ALIAS,
    SAMPLES_ADDED_ALIAS,
)
from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from airflow_provider_modelarts.operators.team_tasks import CreateTeamTaskOperator

ENDPOINT = UNIT_ENDPOINT
DATASET_URL = f"{ENDPOINT}/v2/p1/datasets/d1"
TASK_URL = f"{DATASET_URL}/workforce-tasks/t1"
DATASET = "modelarts://modelarts.unit.test/p1/datasets/d1"
TEAM_TASK = f"{DATASET}/workforce-tasks/t1"


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    set_unit_conn(monkeypatch)


def _aliases(op: Any) -> list[str]:
    return [outlet.name for outlet in op.outlets if isinstance(outlet, AssetAlias)]


def _events(accessors: OutletEventAccessors, alias: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.dest_asset_key.uri, e.extra) for e in accessors[AssetAlias(alias)].asset_alias_events]


def test_each_operator_declares_the_alias_of_the_change_it_makes() -> None:
    add = AddSamplesOperator(task_id="add", dataset_id="{{ params.d }}", samples=[])
    update = UpdateLabelsOperator(task_id="update", dataset_id="d1", samples=[])
    decide = AcceptanceOperator(task_id="decide", dataset_id="d1", workforce_task_id="t1", min_pass_rate=0.9)
    act = AcceptanceOperator(task_id="act", dataset_id="d1", workforce_task_id="t1", action="pass_all")
    assert _aliases(add) == [SAMPLES_ADDED_ALIAS]
    assert _aliases(update) == [LABELS_UPDATED_ALIAS]
    assert _aliases(decide) == _aliases(act) == [LABELS_ACCEPTED_ALIAS]
    # Operators that change no labeling data declare none.
    start = AcceptanceOperator(
        task_id="start", dataset_id="d1", workforce_task_id="t1", start_acceptance=True, sampling_rate=1
    )
    create = CreateTeamTaskOperator(task_id="create", dataset_id="d1", task_name="n")
    export = ExportLabelsOperator(task_id="export", dataset_id="d1", path="/tmp/x.jsonl")
    assert _aliases(start) == _aliases(create) == _aliases(export) == []


def test_a_user_alias_or_none_replaces_the_default_and_user_outlets_stay() -> None:
    mine = Asset("modelarts://modelarts.unit.test/p1/datasets/d1")
    op = UpdateLabelsOperator(
        task_id="u", dataset_id="d1", samples=[], asset_alias="ds1-labels", outlets=[mine]
    )
    assert op.outlets == [mine, AssetAlias("ds1-labels")]
    assert UpdateLabelsOperator(task_id="v", dataset_id="d1", samples=[], asset_alias=None).outlets == []
    with pytest.raises(ValueError, match="asset_alias must be an alias name or None"):
        UpdateLabelsOperator(task_id="w", dataset_id="d1", samples=[], asset_alias=" ")


def _decide(rate: float, **kwargs: Any) -> tuple[dict[str, Any], OutletEventAccessors]:
    figures = {"sampled_sample_count": 4, "checked_sample_count": 4, "unchecked_sample_count": 0,
               "accepted_sample_count": int(rate * 4), "rejected_sample_count": 4 - int(rate * 4),
               "pass_rate": rate}  # fmt: skip
    op = AcceptanceOperator(
        task_id="decide", dataset_id="d1", workforce_task_id="t1", min_pass_rate=0.8, **kwargs
    )
    accessors = OutletEventAccessors()
    with respx.mock(assert_all_called=False) as router:
        body = {"task_id": "t1", "status": 2, "checking_task_desc": {"checking_task_id": "chk-1"}}
        router.get(TASK_URL).mock(return_value=httpx.Response(200, json=body))
        router.get(f"{TASK_URL}/acceptance/report").mock(
            return_value=httpx.Response(200, json={"checking_stats": figures})
        )
        router.put(f"{TASK_URL}/acceptance/status").mock(
            return_value=httpx.Response(200, json={"sample_count": 4})
        )
        result = op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    return result, accessors


def test_a_passing_acceptance_announces_the_team_tasks_accepted_labels() -> None:
    result, accessors = _decide(1.0)
    assert result["decision"] == "pass_all"
    ((uri, extra),) = _events(accessors, LABELS_ACCEPTED_ALIAS)
    assert uri == TEAM_TASK
    assert extra == {
        "dataset_id": "d1",
        "workforce_task_id": "t1",
        "checking_task_id": "chk-1",
        "decision": "pass_all",
        "pass_rate": 1.0,
        "min_pass_rate": 0.8,
        "sampled": 4,
        "checked": 4,
        "accepted": 4,
        "rejected": 0,
        "action": "PASS_ALL",
        "sample_count": 4,
    }
    json.dumps(extra)  # an event's extra must be JSON


def test_a_rejected_acceptance_announces_nothing() -> None:
    result, accessors = _decide(0.5)
    assert result["decision"] == "reject_all"
    assert _events(accessors, LABELS_ACCEPTED_ALIAS) == []


def test_an_asset_the_user_lists_gets_the_extra_too() -> None:
    mine = Asset(TEAM_TASK)
    _, accessors = _decide(1.0, outlets=[mine])
    assert accessors[mine].extra["decision"] == "pass_all"


@pytest.mark.parametrize(
    ("action", "announced"), [("pass_all", True), ("reject_all", False), ("cancel", False)]
)
def test_an_action_announces_only_when_it_accepts(action: str, announced: bool) -> None:
    op = AcceptanceOperator(task_id="act", dataset_id="d1", workforce_task_id="t1", action=action)
    accessors = OutletEventAccessors()
    with respx.mock(assert_all_called=False) as router:
        router.put(f"{TASK_URL}/acceptance/status").mock(
            return_value=httpx.Response(200, json={"sample_count": 3})
        )
        op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    events = _events(accessors, LABELS_ACCEPTED_ALIAS)
    assert [(uri, extra["action"], extra["sample_count"]) for uri, extra in events] == (
        [(TEAM_TASK, "PASS_ALL", 3)] if announced else []
    )


def test_added_samples_announce_the_dataset_with_their_counts() -> None:
    op = AddSamplesOperator(task_id="add", dataset_id="d1", samples=[{"name": "a.jpg"}])
    accessors = OutletEventAccessors()
    with respx.mock(assert_all_called=False) as router:
        reply = {"success": True, "results": [{"success": True, "name": "a.jpg"}]}
        router.post(f"{DATASET_URL}/data-annotations/samples").mock(
            return_value=httpx.Response(200, json=reply)
        )
        op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    assert _events(accessors, SAMPLES_ADDED_ALIAS) == [
        (
            DATASET,
            {"dataset_id": "d1", "added": 1, "already_present": 0, "failed": 0, "invalid": 0, "total": 1},
        )
    ]


def test_updated_team_task_labels_announce_the_team_task() -> None:
    op = UpdateLabelsOperator(
        task_id="update",
        dataset_id="d1",
        workforce_task_id="t1",
        samples=[{"sample_id": "s1", "labels": [{"name": "cat", "type": 0}]}],
    )
    accessors = OutletEventAccessors()
    with respx.mock(assert_all_called=False) as router:
        reply = {"success": True, "results": [{"success": True}]}
        router.put(f"{TASK_URL}/data-annotations/samples").mock(return_value=httpx.Response(200, json=reply))
        op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    ((uri, extra),) = _events(accessors, LABELS_UPDATED_ALIAS)
    assert uri == TEAM_TASK
    assert extra["workforce_task_id"] == "t1" and extra["updated"] == 1 and extra["failed"] == 0


def test_nothing_updated_announces_nothing() -> None:
    op = UpdateLabelsOperator(task_id="update", dataset_id="d1", samples=[])
    accessors = OutletEventAccessors()
    with respx.mock(assert_all_called=False):
        op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    assert _events(accessors, LABELS_UPDATED_ALIAS) == []


# -- mapped operators (issue 25, item 13) ----------------------------------------------------------------

MAPPED_DAG = """
import pendulum
from airflow.sdk import DAG, Asset

from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from airflow_provider_modelarts.operators.team_tasks import CreateTeamTaskOperator

with DAG("mapped_assets", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    AddSamplesOperator.partial(task_id="add", dataset_id="d1").expand(samples=[[], []])
    UpdateLabelsOperator.partial(task_id="update", dataset_id="d1").expand(samples=[[], []])
    UpdateLabelsOperator.partial(
        task_id="mine", dataset_id="d1", asset_alias="ds1-labels", outlets=[Asset("modelarts://h/p/datasets/d1")]
    ).expand(samples=[[]])
    UpdateLabelsOperator.partial(task_id="none", dataset_id="d1", asset_alias=None).expand(samples=[[]])
    AcceptanceOperator.partial(task_id="decide", dataset_id="d1", min_pass_rate=0.9).expand(
        workforce_task_id=["t1", "t2"]
    )
    AcceptanceOperator.partial(
        task_id="start", dataset_id="d1", start_acceptance=True, sampling_rate=1
    ).expand(workforce_task_id=["t1", "t2"])
    CreateTeamTaskOperator.partial(task_id="create", dataset_id="d1").expand(task_name=["a", "b"])
"""


def _serialized_dag(tmp_path: Path) -> dict[str, Any]:
    """The DAG file parsed as the DAG processor parses it, then serialized as it goes to the database."""
    (tmp_path / "mapped_assets.py").write_text(MAPPED_DAG)
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors == {}
    return dict(LazyDeserializedDAG.from_dag(bag.dags["mapped_assets"]).data["dag"])


def _serialized_aliases(task: dict[str, Any]) -> list[str]:
    outlets = (
        task["partial_kwargs"].get("outlets", []) if "partial_kwargs" in task else task.get("outlets", [])
    )
    return [outlet["__var"]["name"] for outlet in outlets if outlet.get("__type") == "asset_alias"]


def test_mapped_operators_declare_their_alias_when_the_dag_is_parsed(tmp_path: Path) -> None:
    dag = _serialized_dag(tmp_path)
    tasks = {task["__var"]["task_id"]: task["__var"] for task in dag["tasks"]}
    assert all(task.get("_is_mapped") for task in tasks.values())
    assert {task_id: _serialized_aliases(task) for task_id, task in tasks.items()} == {
        "add": [SAMPLES_ADDED_ALIAS],
        "update": [LABELS_UPDATED_ALIAS],
        "mine": ["ds1-labels"],
        "none": [],
        "decide": [LABELS_ACCEPTED_ALIAS],
        "start": [],  # starting a round accepts nothing
        "create": [],  # creating a team task changes no labeling data
    }
    # What the scheduler reads to start the DAGs scheduled on an alias.
    declared = {d["dependency_id"] for d in dag["dag_dependencies"] if d["dependency_type"] == "asset-alias"}
    assert declared == {SAMPLES_ADDED_ALIAS, LABELS_UPDATED_ALIAS, LABELS_ACCEPTED_ALIAS, "ds1-labels"}


def test_a_mapped_task_instance_declares_the_alias_partial_put_in_its_outlets_once() -> None:
    """Each mapped task instance builds its operator from the outlets ``partial`` completed."""
    mine = Asset("modelarts://modelarts.unit.test/p1/datasets/d1")
    op = UpdateLabelsOperator(
        task_id="u", dataset_id="d1", samples=[], outlets=[mine, AssetAlias(LABELS_UPDATED_ALIAS)]
    )
    assert op.outlets == [mine, AssetAlias(LABELS_UPDATED_ALIAS)]


def test_a_mapped_operator_with_a_blank_alias_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="asset_alias must be an alias name or None"):
        UpdateLabelsOperator.partial(task_id="u", dataset_id="d1", asset_alias=" ")
