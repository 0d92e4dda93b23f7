"""A production-shaped Airflow deployment on one host, each component its own process, as a platform team runs
it on several machines: PostgreSQL (metadata), Redis (Celery broker), CeleryExecutor with **two workers whose
local folders are separate** (each its own ``AIRFLOW_HOME``, DAGs copy, logs and working folder, as on two
machines), **two schedulers** (HA), **two triggerers**, the api-server and the dag-processor, against the
emulator CLI with 50 ms per request and a local S3-compatible store (moto) holding the pipelines' data
(``s3://object_store@data/...``) and the task logs (remote logging: no process reads another's log folder).

Nothing is shared through a disk: the workers get the DAG files (code, deployed to every machine) and nothing
else. Each process reports its own machine name (``machine_name.py``), so a task instance's ``hostname``
says which worker ran it and each triggerer's log says which triggers it ran.

Lowered for the system and chaos tiers (the defaults would make each recovery wait minutes):

* ``[scheduler] task_instance_heartbeat_timeout`` 30 s (default 300), looked for every 5 s
  (``..._detection_interval``, default 10): a task whose worker died is failed, and retried, 30 s after its
  last heartbeat instead of 5 minutes.
* ``[scheduler] scheduler_health_check_threshold`` 15 s (30) and ``orphaned_tasks_check_interval`` 10 s
  (300): a killed scheduler counts as dead after 15 s and the other adopts its task instances within 10 s.
* ``[triggerer] job_heartbeat_sec`` 2 s (5) and ``triggerer_health_check_threshold`` 10 s (30): a killed
  triggerer's triggers go to the other after 10 s.
* ``[scheduler] task_queued_timeout`` 60 s (600), checked every 10 s (120): a task whose Celery message a
  broker restart lost is queued again after a minute.

Everything is stopped on exit by signalling each process group; PostgreSQL's and the store's data is
thrown away.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from services import PostgresServer, RedisServer, S3Server, free_port, wait_until
from system_deployment import SystemDeployment

from modelarts_emulator.process import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEST_DAGS = Path(__file__).resolve().parent / "dags"
STORE_CONN = "object_store"
DATA_BUCKET, LOG_BUCKET = "data", "airflow-logs"
LANDING = f"s3://{STORE_CONN}@{DATA_BUCKET}/landing"
EXPORTS = f"s3://{STORE_CONN}@{DATA_BUCKET}/exports"
WORKERS = ("worker-1", "worker-2")
TRIGGERERS = ("triggerer-1", "triggerer-2")
SCHEDULERS = ("scheduler-1", "scheduler-2")
# Chaos settings (the module docstring's table).
LOWERED = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "15",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
    "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
}
_TRIGGER_STARTED = re.compile(r"trigger (\S+)/(\S+)/(\S+)/(-?\d+)/(\d+) \(ID (\d+)\) starting")


@dataclass
class Component:
    """One Airflow process (``airflow <args>``) standing for one machine, in a session of its own."""

    name: str
    args: list[str]
    env: dict[str, str]
    home: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.home / "output.log"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(BIN / "airflow"), *self.args],
                env=self.env,
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, sig: signal.Signals = signal.SIGKILL, *, group: bool = False) -> None:
        """Signal the process (``group``: everything it started too). A SIGKILL of the process alone leaves
        its children running, as a machine's main process dying does not stop a task mid-call."""
        process = self.process
        assert process is not None, f"{self.name} is not running"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig) if group else process.kill() if sig == signal.SIGKILL else os.kill(
                process.pid, sig
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 30)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # what the group left behind
                return

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class ProductionDeployment(SystemDeployment):
    """:class:`SystemDeployment` plus the components, services and the object store."""

    components: dict[str, Component] = field(default_factory=dict)
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    store: S3Server | None = None
    versions: dict[str, str] = field(default_factory=dict)

    def component(self, name: str) -> Component:
        return self.components[name]

    def task_hosts(self, api: httpx.Client, dag_id: str, run_id: str) -> dict[str, str | None]:
        """Which machine (worker) ran each task of a run, from the task instances' ``hostname``."""
        answer = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        answer.raise_for_status()
        return {ti["task_id"]: ti.get("hostname") or None for ti in answer.json()["task_instances"]}

    def triggerers_of(self, dag_id: str, run_id: str, task_id: str) -> list[str]:
        """The triggerers that started a trigger for this task, in the order of their logs' try numbers."""
        seen: list[tuple[int, int, str]] = []
        for name in TRIGGERERS:
            for match in _TRIGGER_STARTED.finditer(self.components[name].output()):
                if match.group(1, 2, 3) == (dag_id, run_id, task_id):
                    seen.append((int(match.group(5)), int(match.group(6)), name))
        return [name for _, _, name in sorted(seen)]

    def alive_jobs(self, job_type: str) -> list[str]:
        with self.api() as api:
            answer = api.get("/jobs", params={"job_type": job_type, "is_alive": True, "limit": 100})
        answer.raise_for_status()
        return sorted(job["hostname"] for job in answer.json()["jobs"])


def _environment(
    root: Path, port: int, connection: dict[str, Any], pg: PostgresServer, redis: RedisServer, s3: S3Server
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    passwords = root / "passwords.json"
    env.update(
        {
            "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg.url,
            "AIRFLOW__CELERY__BROKER_URL": redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg.url,
            # One secret set for every process, as a deployment's secret store hands out (each home would
            # otherwise generate its own, and a worker's token would not be valid at the api-server).
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__PARALLELISM": "16",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "machine_name.name",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
            "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{LOG_BUCKET}/logs",
            "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": STORE_CONN,
            "AIRFLOW_CONN_MODELARTS_DEFAULT": json.dumps(connection),
            f"AIRFLOW_CONN_{STORE_CONN.upper()}": json.dumps(s3.connection()),
            "MODELARTS_EXAMPLE_POKE_INTERVAL": "1",
            "MODELARTS_EXAMPLE_LANDING_DIR": LANDING,
            "MODELARTS_EXAMPLE_EXPORT_DIR": EXPORTS,
            **LOWERED,
        }
    )
    return env


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _components(root: Path, env: dict[str, str]) -> dict[str, Component]:
    plan: dict[str, list[str]] = {
        "api-server": ["api-server"],
        "dag-processor": ["dag-processor"],
        **{name: ["scheduler"] for name in SCHEDULERS},
        **{name: ["triggerer"] for name in TRIGGERERS},
        # Each worker also serves a queue named after it, so a test DAG can pin a task to one machine.
        **{
            name: [
                "celery",
                "worker",
                "--concurrency",
                "4",
                "--celery-hostname",
                f"{name}@%h",
                "--without-mingle",
                "--queues",
                f"default,{name}",
            ]
            for name in WORKERS
        },
    }
    made: dict[str, Component] = {}
    for name, args in plan.items():
        home = root / name
        dags = home / "dags"
        if name == "dag-processor" or name in WORKERS:
            # The DAG files are code, deployed to each machine that parses or runs them: a copy each.
            shutil.copytree(ROOT / "dags_examples", dags, ignore=shutil.ignore_patterns("__pycache__"))
            # The system tier's own test DAGs (tests/system/dags/) beside them.
            shutil.copytree(TEST_DAGS, dags / "tests_only", ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dags.mkdir(parents=True)
        own = {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "MODELARTS_TEST_MACHINE": name,
            "TMPDIR": str(home / "tmp"),
            # Each machine serves its own logs on its port (all on one host here, so the ports differ).
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
        (home / "tmp").mkdir(parents=True)
        made[name] = Component(name, args, {**env, **own}, home)
    return made


def _versions(pg: PostgresServer, redis: RedisServer) -> dict[str, str]:
    from importlib.metadata import version

    return {
        "PostgreSQL": pg.version,
        "Redis": redis.version,
        "apache-airflow": version("apache-airflow"),
        "apache-airflow-providers-celery": version("apache-airflow-providers-celery"),
        "celery": version("celery"),
        "apache-airflow-providers-amazon": version("apache-airflow-providers-amazon"),
        "moto (S3 server)": version("moto"),
    }


@contextlib.contextmanager
def production_deployment(root: Path, *emulator_args: str) -> Iterator[ProductionDeployment]:
    """Services, emulator and every Airflow component, started in ``root`` (wiped first), stopped at exit."""
    root = root.resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    args = ("--latency-ms", "50", "--reviewer-pace", "1", "--reviewer-pass-rate", "0.95", *emulator_args)
    with (
        PostgresServer(root / "postgres") as pg,
        RedisServer(root / "redis") as redis,
        S3Server(root / "s3", buckets=(DATA_BUCKET, LOG_BUCKET)) as s3,
        EmulatorProcess(*args, log_file=root / "emulator.log") as emulator,
    ):
        # Reviewers and imports move only when a test advances the emulator's clock (system_deployment.py
        # says why). Its import tasks read the store the pipelines land their batches in (as ModelArts: OBS).
        emulator.admin.configure(
            step_seconds=None,
            obs_endpoint=s3.url,
            obs_access_key=s3.access_key,
            obs_secret_key=s3.secret_key,
            obs_region=s3.region,
        )
        connection = emulator.connection_dict("aksk")
        port = free_port()
        env = _environment(root, port, connection, pg, redis, s3)
        password = secrets.token_urlsafe(12)
        (root / "passwords.json").write_text(json.dumps({"admin": password}))
        migrate = root / "migrate.log"
        with migrate.open("wb") as out:
            subprocess.run(
                [str(BIN / "airflow"), "db", "migrate"],
                env={**env, "AIRFLOW_HOME": str(root / "migrate")},
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
            )
        components = _components(root, env)
        base_url = f"http://127.0.0.1:{port}"
        deployment = ProductionDeployment(
            base_url, "admin", password, components["api-server"].home, components["api-server"].log,
            emulator.base_url, emulator.admin, connection,
            components=components, postgres=pg, redis=redis, store=s3, versions=_versions(pg, redis),
        )  # fmt: skip
        try:
            for component in components.values():
                component.start()
            _wait_ready(deployment)
            yield deployment
        finally:
            for component in components.values():
                component.stop()


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/api/v2/monitor/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


# Airflow's processes take ~20-50 s to answer on an idle 2-core machine, minutes on a loaded one: a bound
# on a broken start only, never waited out by a healthy one.
AIRFLOW_START_TIMEOUT = 600.0


def _wait_ready(deployment: ProductionDeployment) -> None:
    api = deployment.components["api-server"]
    wait_until(
        "api-server", lambda: _healthy(deployment.base_url), api.process, api.log, AIRFLOW_START_TIMEOUT
    )
    for name in WORKERS:
        worker = deployment.components[name]
        wait_until(
            name, lambda w=worker: " ready." in w.output(), worker.process, worker.log, AIRFLOW_START_TIMEOUT
        )  # type: ignore[misc]
    wait_until(
        "both schedulers and both triggerers",
        lambda: (
            deployment.alive_jobs("SchedulerJob") == list(SCHEDULERS)
            and deployment.alive_jobs("TriggererJob") == list(TRIGGERERS)
        ),
        None,
        api.log,
        AIRFLOW_START_TIMEOUT,
    )
