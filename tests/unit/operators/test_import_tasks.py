"""ImportFromObsOperator with a fake hook: the task-state-store claim, XCom, asset events, deferral, resume.

The hook's own rules (adoption, evaluation) have their tests in tests/unit/import_tasks/; here the operator
is held to what it adds: which memory it hands the hook (the 3.3 store or the dag run's start), where it
waits, what it returns and announces, and how each outcome fails or succeeds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from airflow.sdk import AssetAlias
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_provider_modelarts.import_tasks import ImportCriteria, ImportStart, evaluate
from airflow_provider_modelarts.operators.base import SAMPLES_IMPORTED_ALIAS
from airflow_provider_modelarts.operators.import_tasks import STATE_KEY, XCOM_KEYS, ImportFromObsOperator
from airflow_provider_modelarts.triggers.import_tasks import ImportTaskTrigger
from unit.import_tasks._helpers import task

DATASET_URI = "modelarts://modelarts.example.com/p1/datasets/ds"


class FakeStore:
    """``context["task_state_store"]``: get / set of JSON values."""

    def __init__(self, **values: Any) -> None:
        self.values = dict(values)
        self.writes: list[Any] = []

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.writes.append(value)
        self.values[key] = value


class FakeHook:
    def __init__(self, *looks: Any, created: bool = True) -> None:
        self.looks = list(looks)
        self.created = created
        self.started: list[dict[str, Any]] = []
        self.closed = False

    def start_import(self, dataset_id: str, import_path: str, **kwargs: Any) -> ImportStart:
        self.started.append({"dataset_id": dataset_id, "import_path": import_path, **kwargs})
        if kwargs["on_claim"] is not None:
            kwargs["on_claim"]({"sent_at_ms": 5, "import_path": import_path, "import_type": "dir"})
        return ImportStart("imp-1", self.created, "created" if self.created else "why", "QUEUING")

    def evaluate_import(self, dataset_id: str, task_id: str, criteria: Any) -> Any:
        return evaluate(self.looks.pop(0), criteria, dataset_id=dataset_id)

    def asset_uri(self, dataset_id: str) -> str:
        return DATASET_URI

    def console_url(self, dataset_id: str, workforce_task_id: str | None = None) -> str:
        return f"https://console.example.com/{dataset_id}"

    def close(self) -> None:
        self.closed = True


def done(imported: int = 10, total: int = 10, **fields: Any) -> Any:
    return task("imp-1", "obs://raw/day1/", "COMPLETED", total_sample_count=total,
                imported_sample_count=imported, **fields)  # fmt: skip


def operator(hook: FakeHook, **kwargs: Any) -> ImportFromObsOperator:
    op = ImportFromObsOperator(task_id="import", dataset_id="ds", import_path="obs://raw/day1/", **kwargs)
    op.__dict__["hook"] = hook
    return op


def events(accessors: OutletEventAccessors) -> list[tuple[str, dict[str, Any]]]:
    alias = accessors[AssetAlias(SAMPLES_IMPORTED_ALIAS)]
    return [(e.dest_asset_key.uri, e.extra) for e in alias.asset_alias_events]


def test_it_declares_its_alias_and_defers_by_default_whatever_airflow_config_says() -> None:
    op = ImportFromObsOperator(task_id="i", dataset_id="ds", import_path="obs://raw/x/")
    assert op.deferrable is True
    assert [o.name for o in op.outlets if isinstance(o, AssetAlias)] == [SAMPLES_IMPORTED_ALIAS]
    assert {"dataset_id", "import_path", "import_folder"} <= set(op.template_fields)
    with pytest.raises(ValueError, match="positive"):
        ImportFromObsOperator(task_id="i", dataset_id="ds", import_path="p", poll_interval=0)
    with pytest.raises(ValueError, match="import_type"):  # when the DAG is parsed, mapped tasks too
        ImportFromObsOperator.partial(task_id="i", import_type="folder")
    ImportFromObsOperator(task_id="t", dataset_id="ds", import_path="p", import_type="{{ params.kind }}")


def test_an_import_already_over_returns_figures_announces_and_records_lineage_without_deferring() -> None:
    hook, accessors = FakeHook(done()), OutletEventAccessors()
    op = operator(hook, import_folder="daily", included_labels=["cat", {"name": "dog"}])
    result = op.execute({"outlet_events": accessors})  # type: ignore[arg-type]
    assert set(result) == set(XCOM_KEYS)
    assert (result["import_task_id"], result["imported"], result["adopted"], result["status"]) == (
        "imp-1", 10, False, "COMPLETED")  # fmt: skip
    [(uri, extra)] = events(accessors)
    assert uri == DATASET_URI and (extra["imported"], extra["not_imported"], extra["adopted"]) == (
        10,
        0,
        False,
    )
    assert set(extra) == {"dataset_id", "import_task_id", "import_path", "import_type", "total", "imported",
                          "not_imported", "annotated", "unconfirmed", "adopted"}  # fmt: skip
    assert op.lineage_uris == (["obs://raw/day1/"], [DATASET_URI])
    sent = hook.started[0]
    assert sent["import_folder"] == "daily" and sent["included_labels"] == [{"name": "cat"}, {"name": "dog"}]
    assert sent["import_type"] == "dir" and hook.closed


def test_with_a_task_state_store_the_claim_is_stored_and_handed_back_on_a_retry() -> None:
    store = FakeStore()
    operator(FakeHook(done())).execute({"task_state_store": store})  # type: ignore[arg-type]
    assert store.values[STATE_KEY] == {
        "sent_at_ms": 5,
        "import_path": "obs://raw/day1/",
        "import_type": "dir",
    }
    store.values[STATE_KEY]["import_task_id"] = "imp-1"
    hook = FakeHook(done(), created=False)
    operator(hook).execute({"task_state_store": store})  # type: ignore[arg-type]
    assert (hook.started[0]["known_task_id"], hook.started[0]["claim_since"]) == ("imp-1", 5)


def test_a_claim_for_another_path_or_type_is_not_this_imports() -> None:
    other_path = {"sent_at_ms": 5, "import_path": "obs://raw/day0/", "import_type": "dir"}
    other_type = {"sent_at_ms": 5, "import_path": "obs://raw/day1/", "import_type": "manifest"}
    for record in (other_path, other_type):
        hook = FakeHook(done())
        operator(hook).execute({"task_state_store": FakeStore(**{STATE_KEY: record})})  # type: ignore[arg-type]
        assert (hook.started[0]["known_task_id"], hook.started[0]["claim_since"]) == (None, None)


def test_without_a_store_the_search_is_bounded_by_the_dag_runs_start() -> None:
    hook = FakeHook(done())
    started = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    operator(hook).execute({"dag_run": SimpleNamespace(start_date=started)})  # type: ignore[arg-type]
    assert hook.started[0]["claim_since"] == int(started.timestamp() * 1000)
    assert hook.started[0]["on_claim"] is None


def test_a_pending_import_defers_with_the_task_id_and_a_deadline() -> None:
    op = operator(FakeHook(task("imp-1", status="RUNNING")), poll_interval=45, max_wait=timedelta(hours=2))
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ImportTaskTrigger) and deferred.value.method_name == "execute_complete"
    assert (trigger.import_task_id, trigger.poll_interval) == ("imp-1", 45.0)
    assert deferred.value.kwargs == {"adopted": False}
    assert trigger.deadline is not None and deferred.value.timeout is not None
    assert deferred.value.timeout > timedelta(hours=2)  # a backstop behind the trigger's own deadline


def test_not_deferrable_polls_in_the_worker_with_the_same_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow_provider_modelarts.operators.import_tasks.time.sleep", lambda s: None)
    hook = FakeHook(task("imp-1", status="QUEUING"), task("imp-1", status="RUNNING"), done(9))
    result = operator(hook, deferrable=False).execute({})
    assert (result["imported"], result["not_imported"], hook.looks) == (9, 1, [])


def test_not_waiting_returns_once_created() -> None:
    result = operator(FakeHook(task("imp-1", status="QUEUING")), wait_for_completion=False).execute({})
    assert (result["status"], result["import_task_id"]) == ("QUEUING", "imp-1")


def test_a_failed_import_fails_the_try_retryably_and_a_refused_partial_one_for_good() -> None:
    failed = task("imp-1", status="FAILED", error_code="ModelArts.4312", error_msg="gone")
    with pytest.raises(AirflowException, match="4312") as error:
        operator(FakeHook(failed)).execute({})
    assert not isinstance(error.value, AirflowFailException)
    with pytest.raises(AirflowFailException, match="allow_partial=False"):
        operator(FakeHook(done(7)), allow_partial=False).execute({})


def test_an_empty_import_succeeds_and_announces_nothing() -> None:
    accessors = OutletEventAccessors()
    result = operator(FakeHook(done(0, 0))).execute({"outlet_events": accessors})  # type: ignore[arg-type]
    assert result["total"] == 0 and events(accessors) == []


def resume(event: Any, **kwargs: Any) -> tuple[dict[str, Any], OutletEventAccessors]:
    accessors = OutletEventAccessors()
    op = operator(FakeHook(), **kwargs)
    return op.execute_complete({"outlet_events": accessors}, event, adopted=True), accessors  # type: ignore[arg-type]


def test_resuming_on_success_returns_the_figures_and_announces() -> None:
    figures = evaluate(done(), ImportCriteria()).figures
    result, accessors = resume({"status": "success", "message": "done", "figures": figures,
                                "dataset_id": "ds", "import_task_id": "imp-1"})  # fmt: skip
    assert (result["adopted"], result["imported"]) == (True, 10)
    assert [extra["adopted"] for _, extra in events(accessors)] == [True]


@pytest.mark.parametrize(
    ("event", "raised"),
    [
        ({"status": "timeout", "message": "late", "figures": {}}, AirflowException),
        ({"status": "failure", "message": "4312", "figures": {"status": "FAILED"}}, AirflowException),
        ({"status": "failure", "message": "api", "figures": {}, "api_error": True}, AirflowException),
        (
            {"status": "failure", "message": "partial", "figures": {"status": "COMPLETED"}},
            AirflowFailException,
        ),
        ({"status": "odd", "figures": {}}, AirflowException),
        (None, AirflowException),
    ],
)
def test_resuming_on_anything_else_fails_as_it_should(event: Any, raised: type[Exception]) -> None:
    with pytest.raises(raised) as error:
        resume(event)
    if raised is AirflowException:
        assert not isinstance(error.value, AirflowFailException)  # a retry adopts or imports anew


def test_a_path_with_credentials_is_refused_without_repeating_it() -> None:
    hook = FakeHook(done())
    op = ImportFromObsOperator(task_id="i", dataset_id="ds", import_path="s3://AKID:s3cr3t-value@raw/day1/")
    op.__dict__["hook"] = hook
    with pytest.raises(AirflowFailException) as refused:
        op.execute({})
    assert "s3cr3t-value" not in str(refused.value) and hook.started == []
