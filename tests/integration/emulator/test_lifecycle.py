"""Team labeling life cycle: seed -> add -> label -> acceptance -> reviewers -> the owner's decision."""

from __future__ import annotations

import hashlib

import pytest

from airflow_provider_modelarts.client import ModelArtsClient
from airflow_provider_modelarts.errors import ModelArtsAPIError
from airflow_provider_modelarts.models import AcceptanceAction, TaskStatus
from integration.emulator._helpers import image
from modelarts_emulator import DEFAULT_PROJECT_ID
from modelarts_emulator.testing import EmulatorServer

SEED = {
    "workforces": [
        {
            "workforce_id": "wf-a",
            "workforce_name": "team-a",
            "workers": [{"worker_id": "w-1", "email": "one@example.com"}, {"worker_id": "w-2", "role": 1}],
        }
    ],
    "datasets": [
        {
            "dataset_id": "ds-life",
            "dataset_name": "life",
            "dataset_type": 0,
            "samples": [{"name": f"seed-{i}.jpg"} for i in range(4)],
            "workforce_tasks": [
                {"task_id": "t-life", "task_name": "life", "status": 1, "workforce_ids": ["wf-a"]}
            ],
        }
    ],
}


def sid(name: str, dataset: str = "ds-life") -> str:
    return hashlib.md5(f"{dataset}/{name}".encode()).hexdigest()


def _status(client: ModelArtsClient) -> int:
    return int(client.get_workforce_task("ds-life", "t-life").status)  # type: ignore[arg-type]


def _labeled_task(emulator: EmulatorServer, client: ModelArtsClient) -> list[str]:
    """Seed, add 6 samples, label all 10 in the team task; returns the sample ids."""
    emulator.admin.seed(SEED)
    added = client.add_samples("ds-life", [image(f"new-{i}.jpg") for i in range(6)])
    assert added.success is True
    names = [f"seed-{i}.jpg" for i in range(4)] + [f"new-{i}.jpg" for i in range(6)]
    ids = [sid(name) for name in names]
    listed = client.list_workforce_task_samples("ds-life", "t-life", sample_state="__NONE__", limit=100)
    assert listed.sample_count == 10  # added samples joined the task (synchronize_data)
    labels = [{"sample_id": i, "labels": [{"name": "cat", "type": 0}], "worker_id": "w-1"} for i in ids]
    assert client.update_workforce_task_samples("ds-life", "t-life", labels).success is True
    assert (
        client.list_workforce_task_samples("ds-life", "t-life", sample_state="__UNCHECK__").sample_count == 10
    )
    return ids


def test_pass_all_ends_accepted_and_synchronizes_labels_to_the_dataset(
    paused_emulator: EmulatorServer,
) -> None:
    with paused_emulator.client() as client:
        ids = _labeled_task(paused_emulator, client)
        assert client.list_samples("ds-life", sample_state="__ALL__").sample_count == 0

        checking_id = client.start_acceptance("ds-life", "t-life", sampling_rate=0.5).task_id
        assert _status(client) == TaskStatus.SAMPLING
        paused_emulator.admin.advance(steps=1)
        assert _status(client) == TaskStatus.ACCEPTING
        report = client.get_acceptance_report("ds-life", "t-life", checking_id).checking_stats
        assert report is not None
        assert (report.sampled_sample_count, report.checked_sample_count) == (5, 0)

        paused_emulator.admin.configure(reviewer_pace=2)
        paused_emulator.admin.advance(steps=1)
        report = client.get_acceptance_report("ds-life", "t-life", checking_id).checking_stats
        assert report is not None and report.checked_sample_count == 2 and report.unchecked_sample_count == 3
        paused_emulator.admin.advance(steps=5)
        task = client.get_workforce_task("ds-life", "t-life")
        assert task.checking_task_desc is not None and task.checking_task_desc.checking_task_id == checking_id
        stats = task.checking_task_desc.checking_stats
        assert stats is not None and stats.checked_sample_count == 5
        assert (stats.accepted_sample_count or 0) + (stats.rejected_sample_count or 0) == 5
        checked = client.list_workforce_task_samples(
            "ds-life", "t-life", sample_state="__WORKFORCE_SAMPLED_CHECKED__"
        )
        assert checked.sample_count == 5

        answer = client.update_acceptance_status("ds-life", "t-life", AcceptanceAction.PASS_ALL)
        assert answer.sample_count == 10
        assert _status(client) == TaskStatus.SYNCHRONIZING
        paused_emulator.admin.advance(steps=1)
        assert _status(client) == TaskStatus.ACCEPTED
        dataset_labeled = client.list_samples("ds-life", sample_state="__ALL__", limit=100)
        assert {s.sample_id for s in dataset_labeled.samples or []} == set(ids)
        assert all(s.labels and s.labels[0].name == "cat" for s in dataset_labeled.samples or [])
        assert (
            client.list_workforce_task_samples("ds-life", "t-life", sample_state="__ACCEPTED__").sample_count
            == 10
        )


def test_reject_all_ends_rejected_and_leaves_dataset_labels_alone(paused_emulator: EmulatorServer) -> None:
    with paused_emulator.client() as client:
        _labeled_task(paused_emulator, client)
        client.start_acceptance("ds-life", "t-life", sampling_num=3)
        paused_emulator.admin.advance(steps=3)
        assert client.update_acceptance_status("ds-life", "t-life", "reject_all").sample_count == 0
        paused_emulator.admin.advance(steps=1)
        assert _status(client) == TaskStatus.REJECTED
        assert client.list_samples("ds-life", sample_state="__ALL__").sample_count == 0
        assert (
            client.list_workforce_task_samples("ds-life", "t-life", sample_state="__REJECTED__").sample_count
            == 10
        )
        # A rejected task is labeled again and can go through acceptance again.
        again = [{"sample_id": sid("seed-0.jpg"), "labels": [{"name": "dog"}]}]
        assert client.update_workforce_task_samples("ds-life", "t-life", again).success is True
        assert client.start_acceptance("ds-life", "t-life", sampling_rate=1.0).task_id


def test_cancel_returns_the_task_to_running(paused_emulator: EmulatorServer) -> None:
    with paused_emulator.client() as client:
        _labeled_task(paused_emulator, client)
        client.start_acceptance("ds-life", "t-life", sampling_rate=1.0)
        paused_emulator.admin.advance(steps=2)
        client.update_acceptance_status("ds-life", "t-life", AcceptanceAction.CANCEL)
        assert _status(client) == TaskStatus.RUNNING
        assert (
            client.list_workforce_task_samples(
                "ds-life", "t-life", sample_state="__WORKFORCE_SAMPLED__"
            ).sample_count
            == 0
        )
        # Labels may change again, and a new acceptance can start.
        assert client.update_workforce_task_samples(
            "ds-life", "t-life", [{"sample_id": sid("new-0.jpg")}]
        ).success
        assert client.start_acceptance("ds-life", "t-life", sampling_rate=1.0).task_id


def test_conflicts_and_single_accepted_actions_follow_the_reviewers(paused_emulator: EmulatorServer) -> None:
    with paused_emulator.client() as client:
        _labeled_task(paused_emulator, client)
        paused_emulator.admin.configure(reviewer_pass_rate=0.5, reviewer_pace=100)
        checking_id = client.start_acceptance("ds-life", "t-life", sampling_num=6)
        paused_emulator.admin.advance(steps=2)
        report = client.get_acceptance_report("ds-life", "t-life", checking_id.task_id).checking_stats
        assert report is not None and report.checked_sample_count == 6
        rejected = report.rejected_sample_count or 0
        assert 0 < rejected < 6  # seed 0 with pass rate 0.5 gives a mix; the outcome is deterministic

        conflicts = client.update_acceptance_status("ds-life", "t-life", AcceptanceAction.VIEW_CONFLICTS)
        assert conflicts.sample_count == rejected
        assert all(s.check_accept is False for s in conflicts.samples or [])
        assert _status(client) == TaskStatus.ACCEPTING  # viewing changes nothing

        passed = client.update_acceptance_status("ds-life", "t-life", AcceptanceAction.PASS_SINGLE_ACCEPTED)
        assert passed.sample_count == 6 - rejected
        paused_emulator.admin.advance(steps=1)
        assert _status(client) == TaskStatus.ACCEPTED
        assert client.list_samples("ds-life", sample_state="__ALL__").sample_count == 6 - rejected


def test_pass_accepted_and_unchecked_keeps_only_the_rejected_out(paused_emulator: EmulatorServer) -> None:
    with paused_emulator.client() as client:
        _labeled_task(paused_emulator, client)
        paused_emulator.admin.configure(reviewer_pass_rate=0.5, reviewer_pace=100)
        client.start_acceptance("ds-life", "t-life", sampling_num=6)
        paused_emulator.admin.advance(steps=2)
        rejected = client.list_workforce_task_samples(
            "ds-life", "t-life", sample_state="__WORKFORCE_SAMPLED_REJECTED__"
        ).sample_count
        answer = client.update_acceptance_status(
            "ds-life", "t-life", AcceptanceAction.PASS_SINGLE_ACCEPTED_AND_UNACCEPTED
        )
        assert answer.sample_count == 10 - (rejected or 0)


def test_overwrite_last_result_decides_whether_dataset_labels_are_replaced(
    paused_emulator: EmulatorServer,
) -> None:
    with paused_emulator.client() as client:
        _labeled_task(paused_emulator, client)
        keep = sid("seed-1.jpg")
        client.update_samples("ds-life", [{"sample_id": keep, "labels": [{"name": "dataset-label"}]}])
        for overwrite, expected in ((False, "dataset-label"), (True, "cat")):
            client.start_acceptance("ds-life", "t-life", sampling_rate=1.0)
            paused_emulator.admin.advance(steps=1)
            client.update_acceptance_status("ds-life", "t-life", 0, overwrite_last_result=overwrite)
            paused_emulator.admin.advance(steps=1)
            labels = {s.sample_id: s.labels for s in client.iter_samples("ds-life")}
            kept = labels[keep]
            assert kept is not None and kept[0].name == expected
            if not overwrite:  # back to a labelable state for the second round
                paused_emulator.admin.seed(SEED)
                _relabel_after_reseed(client, keep)


def _relabel_after_reseed(client: ModelArtsClient, keep: str) -> None:
    client.update_samples("ds-life", [{"sample_id": keep, "labels": [{"name": "dataset-label"}]}])
    ids = [sid(f"seed-{i}.jpg") for i in range(4)]
    client.update_workforce_task_samples(
        "ds-life", "t-life", [{"sample_id": i, "labels": [{"name": "cat"}]} for i in ids]
    )


def test_acceptance_rules_errors(paused_emulator: EmulatorServer) -> None:
    with paused_emulator.client() as client:
        paused_emulator.admin.seed(SEED)
        with pytest.raises(ModelArtsAPIError) as nothing:
            client.start_acceptance("ds-life", "t-life", sampling_rate=0.5)
        assert (nothing.value.status, nothing.value.error_code) == (400, "ModelArts.4625")
        with pytest.raises(ModelArtsAPIError) as no_round:
            client.update_acceptance_status("ds-life", "t-life", 0)
        assert no_round.value.error_code == "ModelArts.4631"

        _labeled_task(paused_emulator, client)
        client.start_acceptance("ds-life", "t-life", sampling_rate=0.5)
        with pytest.raises(ModelArtsAPIError) as twice:
            client.start_acceptance("ds-life", "t-life", sampling_rate=0.5)
        assert twice.value.error_code == "ModelArts.4623"
        with pytest.raises(ModelArtsAPIError) as labeling:
            client.update_workforce_task_samples("ds-life", "t-life", [{"sample_id": sid("seed-0.jpg")}])
        assert labeling.value.error_code == "ModelArts.4623"

        path = f"/v2/{DEFAULT_PROJECT_ID}/datasets/ds-life/workforce-tasks/t-life/acceptance/status"
        with pytest.raises(ModelArtsAPIError) as no_locale:
            client.send_raw("PUT", path, json_body={"action": 0})
        assert (no_locale.value.error_code, no_locale.value.status) == ("ModelArts.4398", 400)
        assert "locale" in (no_locale.value.error_msg or "")
        with pytest.raises(ModelArtsAPIError) as bad_action:
            client.send_raw("PUT", path, params={"locale": "en-us"}, json_body={"action": 9})
        assert bad_action.value.error_code == "ModelArts.0104"  # the error table's "Parameter error."
        with pytest.raises(ModelArtsAPIError) as unknown_round:
            client.get_acceptance_report("ds-life", "t-life", "no-such-round")
        # "Task not found", filed under 400 by the error table (not_found_status, the default)
        assert (unknown_round.value.status, unknown_round.value.error_code) == (400, "ModelArts.4612")


def test_reviewers_progress_with_emulator_time_at_the_configured_pace(emulator: EmulatorServer) -> None:
    emulator.admin.configure(step_seconds=30, reviewer_pace=1)
    with emulator.client() as client:
        _labeled_task(emulator, client)
        checking_id = client.start_acceptance("ds-life", "t-life", sampling_num=4).task_id
        emulator.admin.advance(seconds=30)  # sampling done
        emulator.admin.advance(seconds=60)  # two samples checked
        report = client.get_acceptance_report("ds-life", "t-life", checking_id).checking_stats
        assert report is not None and report.checked_sample_count == 2
        emulator.admin.advance(seconds=600)
        report = client.get_acceptance_report("ds-life", "t-life").checking_stats
        assert report is not None and report.checked_sample_count == 4


def test_default_seed_has_a_running_team_task_with_labeled_samples(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        # The details page: the statistics come only when their flags ask for them ("false" is the default).
        task = client.get_workforce_task("ds-images", "task-1", sample_stats=True, workforce_stats=True)
        assert task.status == TaskStatus.RUNNING
        assert task.sample_stats is not None and task.sample_stats.uncheck_sample_count == 6
        assert task.workforce_stats is not None and task.workforce_stats.labeler_count == 1
        assert client.list_samples("ds-text").sample_count == 3
