"""The deprecated ``AcceptanceOperator`` (operators/acceptance.py) warns and builds the operator of its mode:
unmapped, mapped with the mode in ``partial``, and mapped with the mode left to ``expand``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.sdk import DAG, AssetAlias
from airflow.serialization.serialized_objects import LazyDeserializedDAG

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1 keeps DagBag in airflow.models
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

from airflow_provider_modelarts.operators.acceptance import (
    AcceptanceOperator,
    ApplyAcceptanceActionOperator,
    DecideAcceptanceOperator,
    StartAcceptanceOperator,
)
from airflow_provider_modelarts.operators.base import LABELS_ACCEPTED_ALIAS

IDS = {"task_id": "acc", "dataset_id": "d1", "workforce_task_id": "t1"}


@pytest.mark.parametrize(
    ("mode", "built", "kept", "dropped"),
    [
        (
            {"start_acceptance": True, "sampling_rate": 0.5},
            StartAcceptanceOperator,
            {"sampling_rate": 0.5},
            (),
        ),
        (
            {"action": "cancel", "locale": "zh-cn", "checking_task_id": "c", "require_all_checked": False},
            ApplyAcceptanceActionOperator,
            {"action": "cancel", "locale": "zh-cn"},
            ("checking_task_id", "require_all_checked"),
        ),
        (
            {"min_pass_rate": 0.9, "checking_task_id": "c", "overwrite_last_result": True},
            DecideAcceptanceOperator,
            {"min_pass_rate": 0.9, "checking_task_id": "c", "overwrite_last_result": True},
            ("action", "sampling_rate"),
        ),
    ],
)
def test_building_one_warns_and_returns_the_operator_of_its_mode(
    mode: dict[str, Any], built: type, kept: dict[str, Any], dropped: tuple[str, ...]
) -> None:
    with pytest.warns(AirflowProviderDeprecationWarning, match="DecideAcceptanceOperator") as warned:
        op = AcceptanceOperator(**IDS, **mode)
    assert warned[0].filename == __file__  # the warning points at the DAG, not at the provider
    assert type(op) is built and op.task_id == "acc" and op.dataset_id == "d1"
    assert {name: getattr(op, name) for name in kept} == kept
    assert [name for name in dropped if hasattr(op, name)] == []


def test_the_old_rules_and_words_stay() -> None:
    with pytest.raises(
        ValueError, match="needs exactly one of action=, start_acceptance=True or min_pass_rate="
    ):
        AcceptanceOperator(**IDS)
    with pytest.raises(ValueError, match="only apply with start_acceptance=True"):
        AcceptanceOperator(**IDS, action=0, sampling_num=2)


def test_partial_with_the_mode_maps_the_operator_of_the_mode() -> None:
    with pytest.warns(AirflowProviderDeprecationWarning):
        partial = AcceptanceOperator.partial(task_id="d", dataset_id="d1", min_pass_rate=0.9, locale="en-us")
    mapped = partial.expand(workforce_task_id=["t1", "t2"])
    assert mapped.task_type == "DecideAcceptanceOperator"
    assert AssetAlias(LABELS_ACCEPTED_ALIAS) in mapped.partial_kwargs["outlets"]


def test_a_mode_left_to_expand_is_built_by_each_mapped_task() -> None:
    """What Airflow does for each mapped task instance: build its operator, then render its fields."""
    with DAG("mode_mapped", schedule=None, params={"rate": "0.5"}) as dag:
        mapped = AcceptanceOperator.partial(
            task_id="t", dataset_id="d", sampling_rate="{{ params.rate }}"
        ).expand(workforce_task_id=["w1", "w2"], start_acceptance=[True])
    context: Any = {"ti": SimpleNamespace(map_index=1), "dag": dag, "dag_run": SimpleNamespace(conf={})}
    mapped.render_template_fields(context)
    op = context["task"]
    assert type(op) is StartAcceptanceOperator
    assert (op.workforce_task_id, op.sampling_rate, op.asset_alias) == ("w2", "0.5", None)


def test_a_dag_file_using_it_still_parses(tmp_path: Path) -> None:
    (tmp_path / "old_acceptance.py").write_text(
        textwrap.dedent(
            """
            import pendulum
            from airflow.sdk import DAG
            from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator

            with DAG("old_acceptance", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
                ids = {"dataset_id": "d", "workforce_task_id": "t"}
                start = AcceptanceOperator(task_id="start", **ids, start_acceptance=True, sampling_num=2)
                decide = AcceptanceOperator(task_id="decide", **ids, min_pass_rate=0.9)
                start >> decide
            """
        )
    )
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors == {}
    dag = bag.dags["old_acceptance"]
    assert [type(t).__name__ for t in dag.tasks] == ["StartAcceptanceOperator", "DecideAcceptanceOperator"]
    assert dag.task_dict["decide"].upstream_task_ids == {"start"}
    serialized = LazyDeserializedDAG.from_dag(dag).data["dag"]["tasks"]  # as it goes to the database
    assert sorted(task["__var"]["task_type"] for task in serialized) == [
        "DecideAcceptanceOperator",
        "StartAcceptanceOperator",
    ]
