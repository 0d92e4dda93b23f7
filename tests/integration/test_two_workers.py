"""Two workers on separate machines: each task gets its own working directory, ``$AIRFLOW_HOME`` and
temporary folder, and only the object-store location is shared (a local S3-compatible server for the
pipeline, which ModelArts reads too; a ``file://`` folder elsewhere), as on two Celery workers without a
shared disk (issue 27).

The example pipeline's tasks hand the batch on through the store: ``simulate_daily_drop`` on one worker,
``build_manifest`` on the other, ``import_samples`` back on the first, where the service imports the objects;
its ``landing_dir`` takes nothing but an object-store URL. The export example's ``export_labels`` and
``train`` hand on their manifest likewise. No worker's own folders hold anything afterwards. The bulk
operators read the store's files from either worker, and a ``files=`` glob on a worker that does not have the
files fails retryably, naming the pattern and the host, instead of succeeding having added nothing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from airflow_provider_modelarts.operators.import_tasks import ImportFromObsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from modelarts_emulator.obs_server import S3Server
from modelarts_emulator.testing import EmulatorServer

DAGS = Path(__file__).resolve().parents[2] / "dags_examples"
DATASET = "ds-images"
BATCH = "20260301"
IMAGES = sorted(p.name for p in (DAGS / "data" / "daily_drop").iterdir() if p.suffix == ".png")

Worker = Callable[[str], contextlib.AbstractContextManager[Path]]


def _load(name: str) -> ModuleType:
    """A DAG file, loaded as the DAG processor loads it (not put in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(f"{name}_two_workers", DAGS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pipeline() -> ModuleType:
    return _load("modelarts_labeling_pipeline")


@pytest.fixture(scope="module")
def export_dag() -> ModuleType:
    return _load("modelarts_accepted_labels_export")


@pytest.fixture
def on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Worker:
    """``with on("worker-1"):`` runs the block as that worker: its own cwd, AIRFLOW_HOME and TMPDIR."""

    @contextlib.contextmanager
    def worker(name: str) -> Iterator[Path]:
        root = tmp_path / name
        for folder in ("cwd", "home", "tmp"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        with monkeypatch.context() as m:
            m.chdir(root / "cwd")
            m.setenv("AIRFLOW_HOME", str(root / "home"))
            m.setenv("TMPDIR", str(root / "tmp"))
            m.setattr(tempfile, "tempdir", str(root / "tmp"))
            yield root

    return worker


@pytest.fixture
def store(tmp_path: Path) -> str:
    """The one location both workers share (an object store in production)."""
    (tmp_path / "store").mkdir()
    return f"file://{tmp_path / 'store'}"


@pytest.fixture
def world(emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]) -> EmulatorServer:
    return emulator


def _render(dag: Any, template: str, **params: Any) -> str:
    """A template of the DAG as a run with these params renders it (``batch`` named: no run needed)."""
    values = {**dag.params.dump(), **params}
    return str(dag.get_template_env().from_string(template).render(params=values, dag_run=None))


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _names(world: EmulatorServer) -> set[str]:
    return {str(s.get("sample_name") or s.get("name")) for s in world.admin.samples(DATASET)}


def test_the_pipeline_hands_its_batch_on_through_the_store_only(
    world: EmulatorServer,
    obs_store: S3Server,
    pipeline: ModuleType,
    on: Worker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OBJECT_STORE", json.dumps(obs_store.connection_dict()))
    dag = pipeline.dag
    params = {"batch": BATCH, "landing_dir": "s3://object_store@landing/daily"}
    day_dir = _render(dag, pipeline.BATCH_DIR, **params)
    assert day_dir == f"s3://object_store@landing/daily/{BATCH}"
    with on("worker-1"):
        dag.get_task("simulate_daily_drop").python_callable(day_dir=day_dir)
    with on("worker-2"):
        built = dag.get_task("build_manifest").python_callable(day_dir=day_dir)
    manifest = f"s3://landing/daily/{BATCH}/batch.manifest"  # as ModelArts is given it: no connection
    assert built == {"manifest": manifest, "samples": len(IMAGES)}
    lines = [json.loads(line) for line in obs_store.client().get_object(
        Bucket="landing", Key=f"daily/{BATCH}/batch.manifest")["Body"].read().splitlines()]  # fmt: skip
    assert [line["source"] for line in lines] == [f"s3://landing/daily/{BATCH}/{name}" for name in IMAGES]
    task = dag.get_task("import_samples")
    with on("worker-1"):
        summary = ImportFromObsOperator(
            task_id=task.task_id,
            dataset_id=_render(dag, task.dataset_id, **params),
            import_path=_render(dag, task.import_path, **params),
            import_folder=task.import_folder,
            final_annotation=task.final_annotation,
            deferrable=False,
            poll_interval=0.2,
        ).execute(context={})
    assert (summary["import_path"], summary["status"], summary["imported"]) == (manifest, "COMPLETED", 6)
    assert {f"daily-drops/daily/{BATCH}/{name}" for name in IMAGES} <= _names(world)
    for worker in ("worker-1", "worker-2"):
        assert _files(tmp_path / worker) == [], f"{worker} kept something on its own disk"


def test_the_pipeline_takes_only_an_object_store_as_its_landing_dir(pipeline: ModuleType) -> None:
    """A folder on a worker's disk is on no other worker and ModelArts cannot import from it: the Trigger form
    and ``dags trigger`` refuse it before anything runs."""
    landing = pipeline.dag.params.get_param("landing_dir")
    assert landing.resolve("s3://object_store@bucket/prefix") == "s3://object_store@bucket/prefix"
    for local in ("modelarts_landing", "/data/landing", f"file://{DAGS}"):
        with pytest.raises(Exception, match="does not match"):
            landing.resolve(local)


def test_files_in_the_store_are_added_from_either_worker_and_a_local_glob_elsewhere_fails(
    world: EmulatorServer, pipeline: ModuleType, on: Worker, store: str, tmp_path: Path
) -> None:
    day_dir = f"{store}/landing/{BATCH}"
    pattern = "incoming/*.png"  # relative: under the working directory of the worker running the task
    with on("worker-1") as worker_1:
        pipeline.dag.get_task("simulate_daily_drop").python_callable(day_dir=day_dir)
        local = worker_1 / "cwd" / "incoming"  # the same files on worker 1's own disk
        local.mkdir()
        for name in IMAGES:
            (local / f"local-{name}").write_bytes((DAGS / "data" / "daily_drop" / name).read_bytes())
    with on("worker-2") as worker_2:
        summary = AddSamplesOperator(task_id="add", dataset_id=DATASET, files=f"{day_dir}/*.png").execute(
            context={}
        )
        assert summary["added"] == len(IMAGES)
        with pytest.raises(AirflowException) as raised:
            AddSamplesOperator(task_id="add", dataset_id=DATASET, files=pattern).execute(context={})
    assert not isinstance(raised.value, AirflowFailException)
    searched = str(worker_2 / "cwd" / pattern)  # where worker 2 looked, and which host it is
    host = socket.gethostname()
    assert str(raised.value).startswith(f"files= matched no file on host {host}: {searched!r}")
    assert set(IMAGES) <= _names(world) and not any(n.startswith("local-") for n in _names(world))


def test_the_export_is_trained_on_from_the_other_worker(
    world: EmulatorServer, export_dag: ModuleType, on: Worker, store: str, tmp_path: Path
) -> None:
    path = f"{store}/exports/{DATASET}/by-hand.jsonl"  # what accepted_batches names under export_dir
    labeled = [
        {"name": f"export-{n}.png", "data": "aGk=", "sample_type": 0, "labels": [{"name": label, "type": 0}]}
        for n, label in enumerate(["cat", "dog", "cat"])
    ]
    with on("worker-1"):
        AddSamplesOperator(task_id="add", dataset_id=DATASET, samples=labeled).execute(context={})
        exported = ExportLabelsOperator(task_id="export_labels", dataset_id=DATASET, path=path).execute(
            context={}
        )
    assert exported["samples"] > 0 and exported["path"] == path.removeprefix("file://")
    with on("worker-2"):
        trained = export_dag.dag.get_task("train").python_callable([exported], [{"path": path}])
    assert trained["samples"] == exported["samples"]
    assert trained["label_counts"] == exported["label_counts"]
    for worker in ("worker-1", "worker-2"):
        assert _files(tmp_path / worker) == [], f"{worker} kept something on its own disk"
