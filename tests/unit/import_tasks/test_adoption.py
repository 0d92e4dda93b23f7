"""import_tasks/adoption.py: every row of the design's section 3 table, with an in-memory service.

An import is created at most once per call and adopted whenever the memories (the task-state-store claim,
the bounded search of the list) say which one is the run's; two candidates are an error, never a guess.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from retry_policies import NO_WAIT_RETRY

from airflow_provider_modelarts.errors import ModelArtsTransportError, ModelArtsValidationError
from airflow_provider_modelarts.import_tasks import (
    SEARCH_MARGIN_MS,
    AmbiguousImportTaskError,
    ImportBusyError,
    ImportNotListedError,
    infer_import_type,
    normalize_path,
    read_ms,
    same_path,
    start_or_adopt,
)
from airflow_provider_modelarts.models import ImportType
from unit.import_tasks._helpers import NOW, FakeImports, task

PATH = "obs://raw/day1/"
log = logging.getLogger("test")


def start(service: FakeImports, *, path: str = PATH, known: str | None = None, since: int | None = None,
          claims: list[dict[str, Any]] | None = None, kind: ImportType = ImportType.DIR) -> Any:  # fmt: skip
    return start_or_adopt(
        service,  # type: ignore[arg-type]
        "ds",
        path,
        import_type=kind,
        options={"import_folder": "daily"},
        known_task_id=known,
        claim_since=since,
        on_claim=None if claims is None else claims.append,
        now_ms=lambda: service.now,
        repeat=NO_WAIT_RETRY,
        log=log,
    )


# -- paths ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "wanted", "kind", "same"),
    [
        ("obs://raw/day1/", "s3://raw/day1/", ImportType.DIR, True),  # the create vs list examples
        ("obs://raw/day1", "obs://raw/day1/", ImportType.DIR, True),  # a trailing / is no other folder
        ("OBS://raw/day1/", "obs://raw/day1/", ImportType.DIR, True),
        ("obs://raw/day1/", "obs://raw/Day1/", ImportType.DIR, False),  # keys are case-sensitive
        ("obs://raw/day1/", "obs://raw/day10/", ImportType.DIR, False),
        ("obs://raw/V1.manifest", "s3://raw/V1.manifest", ImportType.MANIFEST, True),
        ("obs://raw/V1.manifest/", "obs://raw/V1.manifest", ImportType.MANIFEST, False),
        (None, "obs://raw/day1/", ImportType.DIR, False),
    ],
)
def test_paths_match_by_the_rule_of_the_examples(
    listed: Any, wanted: str, kind: ImportType, same: bool
) -> None:
    assert same_path(listed, wanted, kind) is same


@given(st.text(alphabet="abc/._-", min_size=1, max_size=20))
def test_normalising_twice_changes_nothing(key: str) -> None:
    once = normalize_path(f"s3://bucket/{key}")
    assert normalize_path(once) == once and once.startswith("obs://")


def test_the_type_is_inferred_from_a_manifest_suffix_unless_given() -> None:
    assert infer_import_type("obs://b/V002.manifest") is ImportType.MANIFEST
    assert infer_import_type("obs://b/images/") is ImportType.DIR
    assert infer_import_type("obs://b/V002.manifest", "dir") is ImportType.DIR
    with pytest.raises(ValueError):
        infer_import_type("obs://b/x/", "folder")


@pytest.mark.parametrize(("value", "ms"), [(1606114833874, 1606114833874), (1606114833, 1606114833000),
                                           (None, None), ("1", None), (True, None), (0, None)])  # fmt: skip
def test_create_time_is_read_in_ms_or_seconds(value: Any, ms: int | None) -> None:
    assert read_ms(value) == ms


# -- the table ------------------------------------------------------------------------------------------


def test_no_match_stores_the_claim_before_sending_and_the_id_after() -> None:
    service, claims = FakeImports(task("other", "obs://raw/day0/")), []
    started = start(service, claims=claims, since=NOW)
    assert (started.task_id, started.created, started.adopted) == ("created-1", True, False)
    assert claims == [
        {"sent_at_ms": NOW, "import_path": PATH, "import_type": "dir"},
        {"sent_at_ms": NOW, "import_path": PATH, "import_type": "dir", "import_task_id": "created-1"},
    ]
    assert service.creates == [{"task_id": "created-1", "import_folder": "daily", "import_path": PATH,
                                "import_type": "dir"}]  # fmt: skip


def test_a_stored_id_that_is_alive_is_adopted_without_a_list() -> None:
    service = FakeImports(task("mine", status="RUNNING"))
    started = start(service, known="mine", since=NOW)
    assert (started.task_id, started.adopted, service.lists, service.creates) == ("mine", True, 0, [])


@pytest.mark.parametrize("how", ["FAILED", "NOT_EXIST", "gone"])
def test_a_stored_id_that_failed_or_is_gone_is_imported_anew(how: str) -> None:
    service = FakeImports(task("mine", status="FAILED" if how == "gone" else how, created=NOW))
    if how == "gone":
        service.gone.add("mine")
    started = start(service, known="mine", since=NOW)
    assert started.created and started.task_id == "created-1"


def test_an_unfinished_matching_import_is_adopted_whoever_started_it() -> None:
    service = FakeImports(task("theirs", "s3://raw/day1", status="STARTING", created=NOW - 10**9))
    started = start(service)  # no claim, no store: still adopted (4356 would refuse a second one)
    assert (started.task_id, started.adopted, service.creates) == ("theirs", True, [])


def test_an_unfinished_import_of_another_path_makes_the_dataset_busy() -> None:
    service = FakeImports(task("theirs", "obs://raw/day0/", status="RUNNING"))
    with pytest.raises(ImportBusyError, match="theirs") as busy:
        start(service, since=NOW)
    assert not busy.value.is_transient and service.creates == []


def test_an_unfinished_import_of_the_same_path_but_the_other_type_makes_the_dataset_busy() -> None:
    service = FakeImports(task("theirs", PATH, status="RUNNING", mode=1))
    with pytest.raises(ImportBusyError):
        start(service)


def test_one_finished_match_since_the_claim_is_adopted() -> None:
    service = FakeImports(task("old", created=NOW - SEARCH_MARGIN_MS - 1), task("mine", created=NOW - 5))
    started = start(service, since=NOW)
    assert (started.task_id, started.adopted, service.creates) == ("mine", True, [])


def test_finished_matches_outside_the_window_or_failed_are_not_the_runs() -> None:
    service = FakeImports(
        task("yesterday", created=NOW - SEARCH_MARGIN_MS - 1),
        task("failed", status="FAILED", created=NOW),
        task("no-time", created=None),
    )
    assert start(service, since=NOW).created


def test_two_finished_matches_are_refused_not_guessed() -> None:
    service = FakeImports(task("a", created=NOW), task("b", status="COMPLETED", created=NOW + 1))
    with pytest.raises(AmbiguousImportTaskError, match="Refusing to guess") as ambiguous:
        start(service, since=NOW)
    assert [entry[0] for entry in ambiguous.value.tasks] == ["a", "b"]
    assert service.creates == [] and not ambiguous.value.is_transient


def test_with_a_store_and_no_claim_nothing_is_searched() -> None:
    service = FakeImports(task("earlier-run", created=NOW))
    assert start(service, since=None).created


def test_a_lost_create_answer_is_never_followed_by_a_second_create() -> None:
    service = FakeImports()
    service.lose_answer()
    started = start(service, since=None)  # even with no claim: the call's own send time bounds the search
    assert (started.task_id, started.adopted, len(service.creates)) == ("created-1", True, 1)


def test_a_lost_answer_whose_import_the_list_never_shows_fails_the_try_without_a_second_create() -> None:
    service = FakeImports()
    service.lose_answer()
    service.lagging_lists = 100
    with pytest.raises(ImportNotListedError) as missing:
        start(service)
    assert missing.value.is_transient and len(service.creates) == 1


def test_a_lost_answer_of_an_import_that_was_not_applied_is_still_not_sent_again() -> None:
    service = FakeImports()
    cause = ModelArtsTransportError(method="POST", path="/x", cause=OSError("reset"))
    service.create_errors.append((cause, False))
    with pytest.raises(ImportNotListedError):
        start(service)
    assert service.creates == []  # it may have been applied: the try fails rather than risk a second one


def test_a_created_reply_without_task_id_is_found_by_the_search() -> None:
    service = FakeImports()
    service.reply_without_id = True
    started = start(service)
    assert (started.task_id, len(service.creates)) == ("created-1", 1)


@pytest.mark.parametrize(("status", "code"), [(429, "ModelArts.6101"), (400, "ModelArts.4356")])
def test_a_refusal_applied_nothing_so_the_step_repeats_and_creates_once(status: int, code: str) -> None:
    service = FakeImports()
    service.refuse(status, code)
    started = start(service)
    assert started.created and len(service.creates) == 1


def test_a_4356_race_adopts_the_import_the_next_list_shows() -> None:
    service = FakeImports()
    service.refuse(400, "ModelArts.4356")
    service.appear_on_create.append(task("theirs", PATH, status="QUEUING"))
    started = start(service, since=NOW)
    assert (started.task_id, started.adopted, service.lists, service.creates) == ("theirs", True, 2, [])


@pytest.mark.parametrize("code", ["ModelArts.4343", "ModelArts.4349", "ModelArts.4355"])
def test_a_busy_dataset_refusal_is_named(code: str) -> None:
    service = FakeImports()
    service.refuse(400, code)
    with pytest.raises(ImportBusyError, match=code):
        start(service)


def test_any_other_refusal_is_raised_as_the_service_said() -> None:
    service = FakeImports()
    service.refuse(400, "ModelArts.4312")
    with pytest.raises(ModelArtsValidationError, match="4312"):
        start(service)
    assert service.creates == []
