"""The example DAGs: they import cleanly, need no logical date, and run green under ``airflow dags test``.

The real deployment (scheduler, triggerer, REST API) is ``test_deployment.py``. Here each DAG runs once (a
run costs ~12 s, mostly the in-process execution API starting), in a subprocess with its own AIRFLOW_HOME,
the ``modelarts_default`` connection pointing at a real emulator server and ``object_store`` at a local
S3-compatible server (moto) that the emulator's import tasks read too. Deferral included: the pipeline's
import and sensor defer, and ``airflow dags test`` runs their triggers inline.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1 keeps DagBag in airflow.models
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

from modelarts_emulator import DEFAULT_IAM_PASSWORD, DEFAULT_SECRET_KEY
from modelarts_emulator.obs_server import S3Server
from modelarts_emulator.testing import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags_examples"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
LOGICAL_DATE = "2025-03-14"
BUCKET = "landing-bucket"
LANDING = f"s3://object_store@{BUCKET}/daily"
SECRETS = (DEFAULT_SECRET_KEY, DEFAULT_IAM_PASSWORD)

# Template variables that do not exist in a run without a logical date (Airflow 3's manual and REST API runs).
LOGICAL_DATE_ONLY = re.compile(
    r"\b(ds|ds_nodash|ts|ts_nodash|ts_nodash_with_tz|logical_date|execution_date|data_interval_start|"
    r"data_interval_end|prev_ds|next_ds|prev_ds_nodash|next_ds_nodash|yesterday_ds|tomorrow_ds)\b"
)

pytestmark = pytest.mark.system


def test_example_dags_import_without_errors() -> None:
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        "modelarts_labeling_pipeline",
        "modelarts_dataset_label_updates",
        "modelarts_accepted_labels_export",
        "modelarts_add_samples",
    }

    pipeline = bag.dags.get("modelarts_labeling_pipeline")  # get_dag() would query the metadata DB
    assert pipeline is not None
    assert pipeline.catchup is False
    assert pipeline.schedule == "@daily"
    imports = pipeline.get_task("import_samples")
    assert type(imports).__name__ == "ImportFromObsOperator" and imports.deferrable is True
    assert imports.import_folder == "daily-drops" and imports.final_annotation is False
    assert imports.upstream_task_ids == {"build_manifest"}
    assert imports.downstream_task_ids == {"create_team_task"}
    adds = bag.dags["modelarts_add_samples"].get_task("add_reference_images")
    assert type(adds).__name__ == "AddSamplesOperator"
    wait = pipeline.get_task("wait_for_acceptance")
    assert getattr(wait, "deferrable", False) is True
    assert [t.task_id for t in wait.upstream_list] == ["start_acceptance"]
    assert [t.task_id for t in wait.downstream_list] == ["decide_by_pass_rate"]
    # Each run labels in the team task it created itself, never in a fixed one.
    create = pipeline.get_task("create_team_task")
    assert create.downstream_task_ids == {"check_batch"}
    # A batch already accepted ends in a task whose name says so, the first thing the grid shows.
    # An open acceptance round (a re-run) goes straight to start_acceptance, which takes it over.
    assert pipeline.get_task("check_batch").downstream_task_ids == {
        "team_task_labels",
        "batch_already_accepted",
        "start_acceptance",
    }
    batch = pipeline.params.get_param("batch")
    assert (batch.value, batch.schema["title"]) == ("auto", "Batch") and "auto" in (batch.description or "")
    for task_id in ("update_labels", "start_acceptance", "wait_for_acceptance", "decide_by_pass_rate"):
        assert "create_team_task" in getattr(pipeline.get_task(task_id), "workforce_task_id", ""), task_id

    updates = bag.dags.get("modelarts_dataset_label_updates")
    assert updates is not None
    assert updates.get_task("update_labels").downstream_task_ids == {"verify_labels"}


def _template_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _template_strings(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from _template_strings(item)


def test_example_dags_need_no_logical_date_and_open_the_trigger_form_valid() -> None:
    """Manual and REST API runs have no logical date in Airflow 3; the Trigger form must start out valid."""
    bag = DagBag(dag_folder=str(DAGS))
    checked = 0
    for dag_id, dag in bag.dags.items():
        for task in dag.tasks:
            fields = {name: getattr(task, name, None) for name in task.template_fields}
            fields.update(getattr(task, "op_kwargs", None) or {})  # @task arguments are templates too
            for name, value in fields.items():
                for text in _template_strings(value):
                    for expression in re.findall(r"{{(.*?)}}", text):
                        checked += 1
                        assert not LOGICAL_DATE_ONLY.search(expression), (dag_id, task.task_id, name, text)
        for name in dag.params:
            param = dag.params.get_param(name)
            schema, default = param.schema, param.value
            assert default is not None, (dag_id, name)
            if schema.get("type") == "string":
                # A "" default counts as missing: the UI's Trigger button would stay disabled.
                assert isinstance(default, str) and default, (dag_id, name)
    assert checked > 10  # the scan really saw the templates


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One migrated metadata DB for both runs (``airflow db migrate`` costs ~5 s)."""
    home = tmp_path_factory.mktemp("airflow_home")
    result = _airflow(home, {}, "db", "migrate")
    assert result.returncode == 0, result.stdout + result.stderr
    yield home


def _environment(home: Path, extra_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        MODELARTS_EXAMPLE_POKE_INTERVAL="0.3",
        PYTHONUNBUFFERED="1",
        **extra_env,
    )
    return env


def _airflow(home: Path, extra_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIRFLOW, *args],
        env=_environment(home, extra_env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _dags_test_driving_the_reviewers(
    home: Path, extra_env: dict[str, str], emulator: EmulatorServer, dag_id: str, conf: tuple[str, ...] = ()
) -> str:
    """``airflow dags test`` with the emulator's clock in the test's hands (it moves only when advanced).

    The clock moves freely until the acceptance round is about to start, then stands still until the sensor
    has deferred ("running trigger in line"), then moves until the run ends. So the sensor's first look always
    finds the review unfinished and the deferred path is what runs, however slow or loaded the machine is: at
    most one step can slip in between reading the output and advancing, and the review needs several.
    """
    emulator.admin.configure(step_seconds=None)
    log_path = home / f"dags-test-{dag_id}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [AIRFLOW, "dags", "test", dag_id, LOGICAL_DATE, *conf],
            env=_environment(home, extra_env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 300
    try:
        while process.poll() is None:
            assert time.monotonic() < deadline, f"airflow dags test {dag_id} did not finish in 300 s"
            output = log_path.read_text(errors="replace")
            # The sensor's deferral is the trigger run after the review started (the import defers earlier).
            _, review_started, after_start = output.partition("[DAG TEST] starting task_id=start_acceptance")
            if not review_started or "running trigger in line" in after_start:
                emulator.admin.advance(steps=1)
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log_path.read_text(errors="replace")
    assert process.returncode == 0, output[-6000:]
    return output


def _run_dag(
    home: Path,
    emulator: EmulatorServer,
    dag_id: str,
    auth: str,
    *,
    store: S3Server | None = None,
    hold_review_until_deferred: bool = False,
    batch: str | None = None,
) -> str:
    conn = {"AIRFLOW_CONN_MODELARTS_DEFAULT": emulator.connection_json(auth=auth)}
    if store is not None:  # the landing bucket, as a deployment has it; the emulator's imports read it
        client = store.client()
        if BUCKET not in {bucket["Name"] for bucket in client.list_buckets()["Buckets"]}:
            client.create_bucket(Bucket=BUCKET)
        conn["AIRFLOW_CONN_OBJECT_STORE"] = json.dumps(store.connection_dict())
        conn["MODELARTS_EXAMPLE_LANDING_DIR"] = LANDING
    conf = ("--conf", json.dumps({"batch": batch})) if batch else ()
    if hold_review_until_deferred:
        output = _dags_test_driving_the_reviewers(home, conn, emulator, dag_id, conf)
    else:
        result = _airflow(home, conn, "dags", "test", dag_id, LOGICAL_DATE, *conf)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
    assert f"DagRun Finished: dag_id={dag_id}" in output
    assert "state=success" in output
    assert "state=failed" not in output
    return output


def _assert_no_secret(output: str, home: Path) -> None:
    for secret in SECRETS:
        assert secret not in output
    leaks = []
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaks += [f"{path}: {secret[:8]}..." for secret in SECRETS if secret.encode() in data]
    assert not leaks, leaks
    assert any((home / "logs").rglob("*")) or "[DAG TEST]" in output  # there were logs to check


def test_labeling_pipeline_runs_end_to_end(
    airflow_home: Path, emulator: EmulatorServer, obs_store: S3Server
) -> None:
    # Strict reviewers: the acceptance outcome depends on what they decide, as in real life. One sample per
    # step, and the steps held while the sensor takes its first look, so the deferred path is what is tested.
    emulator.admin.configure(reviewer_pace=1, reviewer_pass_rate=0.7)
    seeded = {row["sample_name"] for row in emulator.admin.samples("ds-images")}

    output = _run_dag(
        airflow_home,
        emulator,
        "modelarts_labeling_pipeline",
        auth="aksk",
        store=obs_store,
        hold_review_until_deferred=True,
    )

    # The import and the sensor both deferred (the import's first look finds it queued).
    before_review, _, review = output.partition("[DAG TEST] starting task_id=start_acceptance")
    assert "running trigger in line" in before_review and "running trigger in line" in review
    rows = {row["sample_name"]: row for row in emulator.admin.samples("ds-images")}
    new = {name: row for name, row in rows.items() if name not in seeded}
    # A manual run with a logical date (as the 3.3 Trigger form makes them) and the default batch "auto"
    # labels a batch of its own, named after its trigger time, not the logical day a scheduled run takes.
    # The service imported the objects the run landed in the store: <import_folder>/<key> in the emulator.
    batches = {name.split("/")[2] for name in new}
    assert len(batches) == 1, sorted(new)
    (batch,) = batches
    assert re.fullmatch(r"m\d{8}T\d{12}", batch), batch
    files = sorted(f"{kind}_00{i}.png" for kind in ("cat", "dog") for i in (1, 2, 3))
    assert sorted(new) == [f"daily-drops/daily/{batch}/{file}" for file in files]
    landed = sorted(key.rsplit("/", 1)[1] for key in _keys(obs_store, f"daily/{batch}/"))
    assert landed == sorted([*files, "batch.manifest", "corrections.json", "predictions.json"])
    stats = emulator.admin.stats()["routes"]
    assert stats["create_import_task"]["applied"] == 1  # one import, made by the service
    assert "add_samples" not in stats or stats["add_samples"]["requests"] == 0  # no bytes through Airflow
    # The run made its own team task, named after its batch, beside the seed's task-1.
    with emulator.client() as client:
        tasks = {task.task_name: task for task in client.iter_workforce_tasks("ds-images")}
    assert set(tasks) == {"label-pets", f"labeling-{batch}"}
    team_task_id = str(tasks[f"labeling-{batch}"].task_id)
    assert emulator.admin.task("ds-images", "task-1")["rounds"] == []  # the seed's task was not touched
    predictions = json.loads((DAGS / "data" / "daily_drop" / "predictions.json").read_text())["predictions"]
    for name, row in new.items():
        file = name.rsplit("/", 1)[1]
        # In the dataset: to be confirmed, carrying the model's pre-label from the manifest.
        assert row["to_be_confirmed"] is True, name
        assert [label["name"] for label in row["labels"]] == [predictions[file]["label"]]
        # In the team task: the true class (the day's corrections fixed the model's two mistakes).
        task_labels = [label["name"] for label in row["tasks"][team_task_id]["labels"]]
        assert task_labels == [file.split("_")[0]], (name, task_labels)

    emulator.admin.advance(steps=5)  # let the owner's decision finish synchronizing
    task = emulator.admin.task("ds-images", team_task_id)
    (round_,) = task["rounds"]
    results = round_["results"]
    assert len(results) == len(round_["sampled"]) == 6  # the batch's 6 labeled samples, sampling rate 1.0
    pass_rate = sum(results.values()) / len(results)
    expected_status, expected_action = (3, 0) if pass_rate >= 0.8 else (4, 1)
    assert task["status"] == expected_status, (pass_rate, task)
    assert round_["action"] == expected_action
    _assert_no_secret(output, airflow_home)


def _keys(store: S3Server, prefix: str) -> list[str]:
    pages = store.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_add_samples_example_adds_files_that_are_not_in_obs(
    airflow_home: Path, emulator: EmulatorServer
) -> None:
    """Files a worker reads (here: shipped with the DAG) go through the worker, each once: a second run finds
    them present."""
    seeded = {row["sample_name"] for row in emulator.admin.samples("ds-images")}

    _run_dag(airflow_home, emulator, "modelarts_add_samples", auth="aksk")
    _run_dag(airflow_home, emulator, "modelarts_add_samples", auth="aksk")

    rows = {row["sample_name"]: row for row in emulator.admin.samples("ds-images")}
    files = sorted(path.name for path in (DAGS / "data" / "daily_drop").glob("*.png"))
    assert sorted(set(rows) - seeded) == files and len(files) == 6
    assert len(rows) == len(seeded) + len(files)  # the second run added nothing twice


def test_dataset_label_updates_run_end_to_end(airflow_home: Path, emulator: EmulatorServer) -> None:
    before = {row["sample_name"]: row["labels"] for row in emulator.admin.samples("ds-images")}
    assert all(not labels for labels in before.values())  # the seed's dataset samples are unlabeled

    # IAM password auth this time, so both credential kinds are checked for leaks.
    output = _run_dag(airflow_home, emulator, "modelarts_dataset_label_updates", auth="password")

    after: dict[str, Any] = {row["sample_name"]: row["labels"] for row in emulator.admin.samples("ds-images")}
    assert {name: [label["name"] for label in labels] for name, labels in after.items()} == {
        f"{kind}-{i}.jpg": [kind] for kind in ("cat", "dog") for i in (1, 2, 3)
    }
    assert emulator.admin.stats()["routes"]["update_samples"]["applied"] == 1  # one batch of 6
    _assert_no_secret(output, airflow_home)


def test_a_run_of_an_accepted_batch_says_so_instead_of_failing(
    airflow_home: Path, emulator: EmulatorServer, obs_store: S3Server
) -> None:
    """Re-running a day whose team task was accepted (a cleared run, a backfill over done days, the batch
    named again) adopts that task and goes to ``batch_already_accepted`` instead of labeling: accepted labels
    are final, so a new write would be refused. That task's name is what the grid shows."""
    emulator.admin.configure(step_seconds=0.2, reviewer_pace=6, reviewer_pass_rate=1.0)
    day = LOGICAL_DATE.replace("-", "")
    _run_dag(airflow_home, emulator, "modelarts_labeling_pipeline", auth="aksk", store=obs_store, batch=day)
    emulator.admin.advance(steps=5)  # the owner's PASS_ALL finishes synchronizing
    with emulator.client() as client:
        (accepted,) = [
            t for t in client.iter_workforce_tasks("ds-images") if t.task_name == f"labeling-{day}"
        ]
    team_task_id = str(accepted.task_id)
    assert emulator.admin.task("ds-images", team_task_id)["status"] == 3

    samples = len(emulator.admin.samples("ds-images"))
    again = _run_dag(
        airflow_home, emulator, "modelarts_labeling_pipeline", auth="aksk", store=obs_store, batch=day
    )

    assert f"Batch {day} was already accepted in team labeling task labeling-{day} ({team_task_id})" in again
    assert "To label another batch, trigger the DAG with Batch set to a new name" in again
    assert "[DAG TEST] starting task_id=batch_already_accepted" in again
    assert "[DAG TEST] starting task_id=team_task_labels" not in again
    with emulator.client() as client:
        named = [t for t in client.iter_workforce_tasks("ds-images") if t.task_name == f"labeling-{day}"]
    assert [str(t.task_id) for t in named] == [team_task_id]  # adopted, not created again
    task = emulator.admin.task("ds-images", team_task_id)
    assert task["status"] == 3 and len(task["rounds"]) == 1  # no second review of final labels
    # The batch was imported again into the same import_folder: the same samples, none added twice.
    assert len(emulator.admin.samples("ds-images")) == samples
