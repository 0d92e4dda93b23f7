"""What every benchmark shares: the result row, JSON hand-over to the runner, the emulator, CPU pinning.

Each ``bench_*.py`` runs as its own process (started by ``bench/run.py``, or by hand) and ends by printing its
rows as one JSON line prefixed with :data:`ROWS_PREFIX`; the runner collects those lines into the table. A
fresh process per benchmark keeps one benchmark's imports, caches and heap from colouring the next figure.

The emulator always runs in a **separate process** (its CLI, ``python -m modelarts_emulator``, started by
``modelarts_emulator.process.EmulatorProcess``): its request handling would otherwise share the client's
interpreter and GIL, and its stored samples would count towards the client's memory. On a machine with at
least two cores the emulator is pinned to the last core and the measuring process to the others
(``os.sched_setaffinity``), so the two do not steal each other's CPU. :class:`CannedServer`
(``bench/canned_server.py``: fixed answers, no checks) runs the same way, for figures that must not depend
on the emulator's own speed. Both are a :class:`ServerProcess`, as the import benchmark's store is.

:func:`measure_worker`: memory and CPU of a run without a sampling thread when the peak can be reset. The
import benchmark's S3-compatible store and byte counter are in ``_stores.py``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx

if TYPE_CHECKING:
    from modelarts_emulator.process import EmulatorProcess

ROOT = Path(__file__).resolve().parent.parent
ROWS_PREFIX = "BENCH-ROWS "


@dataclass
class Row:
    """One measured figure next to its target.

    ``ratio`` is the figure divided by its target limit (at most 1.0 meets it); ``None`` for figures that
    have no target (reported for context, e.g. the naive baseline).
    """

    bench: str
    metric: str
    value: str
    target: str = ""
    ratio: float | None = None
    ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def emit(rows: list[Row]) -> None:
    """Print the rows for the runner (one JSON line) after the human-readable output."""
    sys.stdout.flush()
    print(ROWS_PREFIX + json.dumps([r.as_dict() for r in rows]), flush=True)


def check(
    bench: str,
    metric: str,
    value: float,
    limit: float,
    *,
    fmt: str,
    unit: str,
    note: str = "",
    extra: dict[str, Any] | None = None,
    op: str = "<=",
) -> Row:
    """A row for a figure that must stay at or below (``<=``) / below (``<``) ``limit``."""
    ok = value <= limit if op == "<=" else value < limit
    return Row(
        bench=bench,
        metric=metric,
        value=f"{value:{fmt}}{unit}",
        target=f"{'≤' if op == '<=' else '<'} {limit:{fmt}}{unit}",
        ratio=value / limit if limit else None,
        ok=ok,
        note=note,
        extra=extra or {},
    )


def cpu_split() -> tuple[set[int] | None, set[int] | None]:
    """(client cores, emulator cores), or (None, None) when pinning is not possible or not useful."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return set(cores[:-1]), {cores[-1]}


def pin_self() -> str:
    """Pin this process to the client cores; returns a note for the report."""
    client, emulator = cpu_split()
    if client is None:
        return "not pinned (one core available)"
    os.sched_setaffinity(0, client)
    return f"client on core(s) {sorted(client)}, emulator on core(s) {sorted(emulator or ())}"


class ServerProcess:
    """A server in its own process, started when a ``with`` block enters and stopped when it leaves:
    :class:`modelarts_emulator.process.EmulatorProcess` running ``command`` (the emulator's CLI when
    ``None``) with ``args``, its output in a log file of ``workdir`` named after ``name``. It runs on the
    server core when there are two, or on the client core(s) with ``client_cores``."""

    def __init__(
        self,
        workdir: Path,
        name: str,
        *args: str,
        command: list[str] | None = None,
        client_cores: bool = False,
    ) -> None:
        self.workdir = workdir
        self._name, self._args, self._command, self._client_cores = name, args, command, client_cores
        self._process: EmulatorProcess | None = None

    def __enter__(self) -> Self:
        from modelarts_emulator.process import EmulatorProcess

        client, server = cpu_split()
        self._process = EmulatorProcess(
            *self._args,
            cpus=client if self._client_cores else server,
            log_file=self.workdir / f"{self._name}-{os.getpid()}-{time.monotonic_ns()}.log",
            command=self._command,
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.stop()

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def base_url(self) -> str:
        assert self._process is not None
        return self._process.base_url

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far, from ``/proc/<pid>/stat``."""
        return process_cpu_seconds(self.pid)


class Emulator(ServerProcess):
    """The emulator CLI in its own process (:class:`ServerProcess`), with the admin API."""

    def __init__(self, workdir: Path, *extra_args: str) -> None:
        super().__init__(workdir, "emulator", *extra_args)
        self._admin: httpx.Client | None = None

    def __enter__(self) -> Self:
        super().__enter__()
        self._admin = httpx.Client(base_url=self.base_url, timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._admin is not None:
            self._admin.close()
        super().__exit__(*exc)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._admin is not None
        response = self._admin.request(method, "/_emulator/" + path.lstrip("/"), **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def connection(self, auth: str = "aksk") -> dict[str, Any]:
        """The Airflow connection (JSON form) for this emulator."""
        assert self._process is not None
        return self._process.connection_dict(auth)

    def use_as_default_connection(self, auth: str = "aksk") -> None:
        os.environ["AIRFLOW_CONN_MODELARTS_DEFAULT"] = json.dumps(self.connection(auth))


class CannedServer(ServerProcess):
    """``bench/canned_server.py`` in its own process (:class:`ServerProcess`, on the server core when there
    are two): fixed valid answers to the sample batch calls after ``latency_ms``, no signature checks, no
    state."""

    def __init__(self, workdir: Path, latency_ms: float = 0.0) -> None:
        command = [sys.executable, str(Path(__file__).resolve().parent / "canned_server.py")]
        super().__init__(workdir, "canned", "--latency-ms", str(latency_ms), command=command)
        self.latency_ms = latency_ms

    def connection(self) -> dict[str, Any]:
        """The same Airflow connection as the emulator's (its AK/SK), pointing at this server."""
        assert self._process is not None
        return self._process.connection_dict()

    def use_as_default_connection(self) -> None:
        os.environ["AIRFLOW_CONN_MODELARTS_DEFAULT"] = json.dumps(self.connection())


def airflow_env(workdir: Path) -> None:
    """Keep Airflow's home inside the benchmark's temporary folder, never ~/airflow."""
    os.environ.setdefault("AIRFLOW_HOME", str(workdir / "airflow"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of another process so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    # After the ")" that ends the command name: state is field 3, utime 14 and stime 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def rss_kb(field_name: str = "VmRSS") -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def measure_peak(run: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Call ``run()`` and measure this process's memory around it: ``(its result, figures)``.

    The baseline is the resident size now (after imports, before ``run``); the peak is the higher of a 10 ms
    sampler's readings and the kernel's high-water mark, which is reset to the baseline first where
    ``/proc/self/clear_refs`` allows (``hwm_reset``). Figures: ``baseline_mb``, ``peak_mb``,
    ``above_baseline_mb``, ``hwm_reset``, ``seconds``.
    """
    baseline_kb = rss_kb()
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS
    except OSError:
        reset = False
    sampled_peak = baseline_kb
    stop = threading.Event()

    def sample() -> None:
        nonlocal sampled_peak
        while not stop.is_set():
            sampled_peak = max(sampled_peak, rss_kb())
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        result = run()
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
    peak_kb = max(sampled_peak, rss_kb("VmHWM") if reset else 0)
    return result, {
        "baseline_mb": baseline_kb / 1024,
        "peak_mb": peak_kb / 1024,
        "above_baseline_mb": (peak_kb - baseline_kb) / 1024,
        "hwm_reset": reset,
        "seconds": elapsed,
    }


def measure_worker(run: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """:func:`measure_peak`'s memory figures without its 10 ms sampler when the kernel's high-water mark
    can be reset (the sampler's own CPU would grow with the run's wall time), plus this process's CPU
    seconds during ``run`` (``cpu_seconds``: ``time.process_time``, every thread, to the nanosecond where
    :func:`cpu_seconds`' ``os.times`` counts 10 ms ticks)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        cpu0 = time.process_time()
        result, figures = measure_peak(run)  # no reset: the sampler is the only peak there is
    else:
        baseline_kb, cpu0 = rss_kb(), time.process_time()
        started = time.perf_counter()
        result = run()
        peak_kb = rss_kb("VmHWM")
        figures = {
            "baseline_mb": baseline_kb / 1024,
            "peak_mb": peak_kb / 1024,
            "above_baseline_mb": (peak_kb - baseline_kb) / 1024,
            "hwm_reset": True,
            "seconds": time.perf_counter() - started,
        }
    figures["cpu_seconds"] = time.process_time() - cpu0
    return result, figures
