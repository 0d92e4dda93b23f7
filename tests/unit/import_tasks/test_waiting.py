"""import_tasks/waiting.py: the one definition of "done" for an import, and what a long import logs."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelarts.import_tasks import (
    ImportCriteria,
    evaluate,
    figures_of,
    progress_log,
    read_task,
)
from airflow_provider_modelarts.waiting import WaitState
from unit.import_tasks._helpers import FakeImports, task

PARTIAL_REFUSED = ImportCriteria(allow_partial=False)
PARTIAL_ALLOWED = ImportCriteria()


def look(status: str, criteria: ImportCriteria = PARTIAL_ALLOWED, **counts: Any) -> Any:
    return evaluate(task("t-1", status=status, **counts), criteria, dataset_id="ds")


@pytest.mark.parametrize("status", ["QUEUING", "STARTING", "RUNNING"])
def test_an_unfinished_import_is_pending_with_its_progress(status: str) -> None:
    result = look(status, total_sample_count=20, imported_sample_count=5, total_file_count=20,
                  finished_file_count=6)  # fmt: skip
    assert result.state is WaitState.PENDING and not result.done
    assert (
        result.message
        == f"The import task t-1 of dataset ds is {status}: 5/20 samples imported, 6/20 files copied."
    )


def test_a_complete_import_succeeds_without_a_warning() -> None:
    result = look("COMPLETED", total_sample_count=20, imported_sample_count=20)
    assert (result.state, result.warning, result.final) == (WaitState.SUCCESS, False, False)
    assert result.figures["not_imported"] == 0


def test_a_partial_import_succeeds_with_a_warning_naming_what_is_missing() -> None:
    result = look("COMPLETED", total_sample_count=20, imported_sample_count=17)
    assert (result.state, result.warning) == (WaitState.SUCCESS, True)
    assert "3 of 20 samples not imported" in result.message and result.figures["not_imported"] == 3


def test_a_partial_import_fails_for_good_when_partial_imports_are_refused() -> None:
    result = look("COMPLETED", PARTIAL_REFUSED, total_sample_count=20, imported_sample_count=17)
    assert (result.state, result.final) == (WaitState.FAILURE, True)
    assert "allow_partial=False" in result.message


def test_an_import_of_nothing_succeeds_with_a_warning() -> None:
    result = look("COMPLETED", total_sample_count=0, imported_sample_count=0)
    assert (result.state, result.warning) == (WaitState.SUCCESS, True)
    assert "nothing to import" in result.message


def test_a_failed_import_names_the_code_the_message_and_the_hint() -> None:
    result = look("FAILED", error_code="ModelArts.4310", error_msg="OBS action is forbidden")
    assert (result.state, result.final) == (WaitState.FAILURE, False)  # a retry imports anew
    assert "ModelArts.4310: OBS action is forbidden; grant ModelArts access to OBS" in result.message


def test_an_import_that_no_longer_exists_fails() -> None:
    assert "no longer exists" in look("NOT_EXIST").message and look("NOT_EXIST").state is WaitState.FAILURE


@pytest.mark.parametrize("status", ["PAUSED", None])
def test_a_status_the_page_does_not_list_keeps_the_wait_pending(status: Any) -> None:
    result = evaluate(task("t-1", status=status), ImportCriteria())
    assert result.state is WaitState.PENDING and "not one the page lists" in result.message


def test_sub_samples_are_reported_apart_never_summed() -> None:
    figures = figures_of(task("t", total_sample_count=2, imported_sample_count=2, total_sub_sample_count=30,
                              imported_sub_sample_count=28))  # fmt: skip
    assert (figures["imported"], figures["sub_samples_imported"], figures["not_imported"]) == (2, 28, 0)


def test_file_figures_come_from_file_statistics_when_the_flat_counts_are_missing() -> None:
    stats = {"file_num_total": 9, "file_num_finished": 4, "file_size_total": 90, "file_size_finished": 40}
    figures = figures_of(task("t", file_statistics=stats))
    assert (figures["files_total"], figures["files_finished"], figures["bytes_finished"]) == (9, 4, 40)
    assert figures["import_type"] == "dir"


def test_a_gone_task_reads_as_not_exist() -> None:
    service = FakeImports()
    service.gone.add("t-9")
    assert read_task(service, "ds", "t-9").status == "NOT_EXIST"  # type: ignore[arg-type]


def test_the_criteria_survive_a_trigger_round_trip() -> None:
    assert ImportCriteria.from_dict(PARTIAL_REFUSED.to_dict()) == PARTIAL_REFUSED
    assert ImportCriteria.from_dict(None) == ImportCriteria()


def test_a_six_hour_import_logs_its_changes_and_a_heartbeat_not_every_poll() -> None:
    """A poll every 30 s for 6 hours (720 polls); the import moves 10 files every 15 minutes."""
    log, lines = progress_log(), []
    for poll in range(720):
        now = poll * 30.0
        done = int(now // 900) * 10
        result = look("RUNNING", total_sample_count=240, imported_sample_count=done, total_file_count=240,
                      finished_file_count=done)  # fmt: skip
        line = log.line(result, now)
        if line is not None:
            lines.append(line)
    changes = [line for line in lines if not line.startswith("Still waiting")]
    heartbeats = [line for line in lines if line.startswith("Still waiting")]
    assert len(changes) == 24  # one per 15-minute move
    assert len(heartbeats) == 24  # one ten minutes after each change (the next change comes 5 minutes later)
    assert len(lines) < 720 / 10
