"""import_tasks/adoption.py: what each row of the design's section 3 table returns or raises, in full.

test_adoption.py shows which import is adopted or created; here the rest a caller relies on: the reason and
status an ``ImportStart`` carries, the dataset every call names, the log line when a stored import failed, the
errors' fields and messages, the edges of the search window and of ``create_time``, and which create failures
count as "maybe applied" (never sent again) or as refused (sent again on the next step).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from retry_policies import NO_WAIT_RETRY

from airflow_provider_modelarts.import_tasks import (
    SEARCH_MARGIN_MS,
    AmbiguousImportTaskError,
    ImportBusyError,
    ImportNotListedError,
    ImportStart,
    start_or_adopt,
)
from airflow_provider_modelarts.models import (
    ImportTaskStatus,
    ImportTaskStatusResp,
    ImportType,
    parse_response,
)
from unit.import_tasks._helpers import NOW, FakeImports, api_error, task

PATH = "obs://raw/day1/"
ONE_STEP = dataclasses.replace(NO_WAIT_RETRY, max_attempts=1)  # the first step's own outcome, not repeated


class Log:
    """The warnings start_or_adopt logs, formatted as logging would."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: Any) -> None:
        self.warnings.append(message % args)


class Service(FakeImports):
    """FakeImports that records the dataset each call names; ``finish``: created imports are listed
    COMPLETED (the import ended before the next look); ``reply``: what create answers instead of its own."""

    def __init__(self, *tasks: ImportTaskStatusResp, finish: bool = False, reply: Any = "own") -> None:
        super().__init__(*tasks)
        self.datasets: list[str] = []
        self.finish, self.reply = finish, reply

    def iter_import_tasks(self, dataset_id: str) -> Any:
        self.datasets.append(dataset_id)
        return super().iter_import_tasks(dataset_id)

    def get_import_task(self, dataset_id: str, task_id: str) -> ImportTaskStatusResp:
        self.datasets.append(dataset_id)
        return super().get_import_task(dataset_id, task_id)

    def create_import_task(self, dataset_id: str, body: dict[str, Any]) -> Any:
        self.datasets.append(dataset_id)
        try:
            answer = super().create_import_task(dataset_id, body)
        finally:
            if self.finish:
                created = {c["task_id"] for c in self.creates}
                self.tasks = [
                    task(t.task_id, t.import_path, "COMPLETED", t.import_type, t.create_time)
                    if t.task_id in created
                    else t
                    for t in self.tasks
                ]
        return answer if self.reply == "own" else self.reply


def run(service: FakeImports, *, path: str = PATH, kind: ImportType = ImportType.DIR,
        known: str | None = None, since: int | None = NOW, log: Any = None,
        repeat: Any = NO_WAIT_RETRY) -> ImportStart:  # fmt: skip
    return start_or_adopt(
        service,  # type: ignore[arg-type]
        "ds",
        path,
        import_type=kind,
        options={},
        known_task_id=known,
        claim_since=since,
        on_claim=None,
        now_ms=lambda: service.now,
        repeat=repeat,
        log=log or Log(),
    )


# -- what an ImportStart says --------------------------------------------------------------------------------


def test_a_created_import_is_queuing_and_says_so() -> None:
    assert run(Service()) == ImportStart("created-1", True, "created", ImportTaskStatus.QUEUING)


def test_an_alive_stored_id_is_adopted_with_its_status() -> None:
    started = run(Service(task("mine", status="RUNNING")), known="mine")
    why = "its id is in the task's state store"
    assert started == ImportStart("mine", False, why, ImportTaskStatus.RUNNING)


def test_an_unfinished_match_is_adopted_with_its_status() -> None:
    started = run(Service(task("theirs", status="STARTING")), since=None)
    why = "an unfinished import of the same path (one import runs per dataset)"
    assert started == ImportStart("theirs", False, why, ImportTaskStatus.STARTING)


def test_a_finished_match_since_the_claim_is_adopted_with_its_status() -> None:
    started = run(Service(task("mine", status="COMPLETED", created=NOW)))
    why = "a finished import of the same path created since this run's claim"
    assert started == ImportStart("mine", False, why, ImportTaskStatus.COMPLETED)


def test_an_import_whose_answer_was_lost_is_adopted_by_the_calls_own_send_time() -> None:
    service = Service(finish=True)
    service.lose_answer()
    started = run(service, since=None)  # no claim: only the send time of this call bounds the search
    why = "a finished import of the same path sent by this call, its answer lost"
    assert started == ImportStart("created-1", False, why, ImportTaskStatus.COMPLETED)
    assert len(service.creates) == 1


def test_a_manifest_import_matches_listed_manifest_imports_only() -> None:
    service = Service(task("v1", "s3://raw/V1.manifest", status="RUNNING", mode=1))
    started = run(service, path="obs://raw/V1.manifest", kind=ImportType.MANIFEST)
    assert (started.task_id, started.adopted, service.creates) == ("v1", True, [])


# -- the dataset each call names, and the log ----------------------------------------------------------------


def test_every_call_names_the_dataset_and_a_failed_stored_import_is_logged() -> None:
    service = Service(task("mine", status="FAILED", error_code="ModelArts.4401", error_msg="bad file"))
    log = Log()
    assert run(service, known="mine", log=log).created
    assert service.datasets == ["ds", "ds", "ds"]  # details, list, create
    assert log.warnings == [
        "Import task mine (stored by an earlier try) is FAILED (ModelArts.4401: bad file); importing anew."
    ]


# -- the errors' fields and messages -------------------------------------------------------------------------


def test_two_unfinished_matches_are_refused_with_both_named() -> None:
    service = Service(task("a", status="RUNNING", created=NOW), task("b", status="QUEUING", created=NOW + 1))
    with pytest.raises(AmbiguousImportTaskError) as ambiguous:
        run(service)
    error = ambiguous.value
    assert (error.dataset_id, error.import_path) == ("ds", PATH)
    assert error.tasks == [("a", ImportTaskStatus.RUNNING, NOW), ("b", ImportTaskStatus.QUEUING, NOW + 1)]
    assert str(error) == (
        f"Dataset ds has 2 imports of {PATH} that this run could own: a (RUNNING, created {NOW}), "
        f"b (QUEUING, created {NOW + 1}). Refusing to guess which import this run owns; nothing was created. "
        "Use another import_path or run, or an import_folder per source."
    )
    assert service.creates == []


def test_two_finished_matches_name_the_dataset_and_path() -> None:
    service = Service(task("a", created=NOW), task("b", created=NOW))
    with pytest.raises(AmbiguousImportTaskError) as ambiguous:
        run(service)
    assert (ambiguous.value.dataset_id, ambiguous.value.import_path) == ("ds", PATH)


def test_a_dataset_busy_with_other_imports_names_them_all() -> None:
    service = Service(
        task("x", "obs://raw/day0/", status="RUNNING", created=NOW),
        task("y", "obs://raw/day2/", status="QUEUING", created=NOW + 1),
    )
    with pytest.raises(ImportBusyError) as busy:
        run(service)
    assert busy.value.dataset_id == "ds"
    assert str(busy.value) == (
        f"Dataset ds cannot import now: it runs import task(s) x (RUNNING, created {NOW}), "
        f"y (QUEUING, created {NOW + 1}) of another path. Airflow's retries try again later."
    )


def test_a_busy_refusal_names_the_dataset() -> None:
    service = Service()
    service.refuse(400, "ModelArts.4343")
    with pytest.raises(ImportBusyError) as busy:
        run(service)
    assert busy.value.dataset_id == "ds"


def test_a_lost_answer_the_list_never_shows_is_named_in_full() -> None:
    service = Service()
    service.lose_answer()
    service.lagging_lists = 100
    with pytest.raises(ImportNotListedError) as missing:
        run(service)
    assert (missing.value.dataset_id, missing.value.import_path) == ("ds", PATH)
    assert str(missing.value) == (
        f"The import of {PATH} into dataset ds was sent, but its answer was lost or carried no task_id, and "
        "the dataset's import task list does not show it (yet); not sending it again."
    )


@pytest.mark.parametrize("reply", [None, parse_response(ImportTaskStatusResp, {}),
                                   parse_response(ImportTaskStatusResp, {"task_id": "  "})])  # fmt: skip
def test_a_create_answer_without_a_usable_task_id_is_looked_for_not_trusted(reply: Any) -> None:
    service = Service(reply=reply)
    with pytest.raises(ImportNotListedError) as missing:
        run(service, repeat=ONE_STEP)
    assert (missing.value.dataset_id, missing.value.import_path) == ("ds", PATH)
    assert len(service.creates) == 1


# -- maybe applied or refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(500, "ModelArts.0001"), (503, "APIGW.0201"), (408, "x")])
def test_a_server_fault_or_timeout_may_have_been_applied_so_create_is_not_sent_again(
    status: int, code: str
) -> None:
    service = Service()
    service.create_errors.append((api_error(status, code), False))
    with pytest.raises(ImportNotListedError):
        run(service)
    assert service.lists > 1 and service.creates == []


# -- the search window ---------------------------------------------------------------------------------------


def test_the_window_includes_its_first_millisecond() -> None:
    started = run(Service(task("edge", created=NOW - SEARCH_MARGIN_MS)))
    assert (started.task_id, started.adopted) == ("edge", True)


@pytest.mark.parametrize("since", [SEARCH_MARGIN_MS + 1, SEARCH_MARGIN_MS, 0])
def test_an_import_without_create_time_is_never_in_the_window(since: int) -> None:
    """Whatever the search's start (even one within the margin of the epoch, where a missing time read as 0
    would fall inside), a task with no ``create_time`` is not adopted: a new import is created."""
    service = Service(task("no-time", created=None))
    assert run(service, since=since).created
