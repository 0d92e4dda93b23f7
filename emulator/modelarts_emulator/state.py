"""The emulator's in-memory world: datasets, samples, labeling teams, team labeling tasks, tokens, the clock.

One re-entrant lock guards everything: the server's event loop and a test thread poking at ``server.state``
may touch it at the same time. Handlers hold the lock for the whole operation, so a batch is applied
atomically, as the service's database transaction would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .codes import ApiError
from .config import EmulatorConfig
from .faults import FaultInjector, FaultRule
from .records import DatasetRecord, TokenRecord, WorkforceTaskRecord
from .seed import apply_seed

__all__ = ["EmulatorState", "Stats"]


class Stats:
    """Request counts per route name: requests, applied, refused (auth), faulted (injected status),
    dropped_before / dropped_after (injected connection drops), and answers by HTTP status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, Counter[str]] = {}

    def bump(self, route: str, *events: str) -> None:
        with self._lock:
            counter = self._routes.get(route)
            if counter is None:
                counter = self._routes[route] = Counter()
            for event in events:
                counter[event] += 1

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            routes = {name: dict(counter) for name, counter in sorted(self._routes.items())}
        totals: Counter[str] = Counter()
        for counter in routes.values():
            totals.update({key: value for key, value in counter.items() if not key.startswith("status_")})
        return {
            "total": totals["requests"],
            "applied": totals["applied"],
            "dropped": totals["dropped_before"] + totals["dropped_after"],
            "dropped_before": totals["dropped_before"],
            "dropped_after": totals["dropped_after"],
            "faulted": totals["faulted"],
            "refused": totals["refused"],
            "routes": routes,
        }


class EmulatorState:
    """Everything the emulator knows. ``config`` is the live configuration (the admin API may change it);
    ``reset()`` goes back to the configuration and seed the state was created with."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        seed: dict[str, Any] | None = None,
        faults: Sequence[FaultRule] = (),
    ) -> None:
        self.lock = threading.RLock()
        self._initial_faults = [dataclasses.replace(rule) for rule in faults]
        self._initial_config = (config or EmulatorConfig()).copy()
        self._initial_config.validate()
        self._initial_seed = seed
        self.stats = Stats()
        self.faults = FaultInjector(self._initial_config.random_seed)
        self._clear()

    # ------------------------------------------------------------------------------------------- reset

    def _clear(self) -> None:
        self.config = self._initial_config.copy()
        self.clock_offset = 0.0
        self.datasets: dict[str, DatasetRecord] = {}
        self.workforces: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.checking_counter = 0
        self.task_counter = 0
        self.import_counter = 0
        self.last_tick = self.now()

    def reset(self, seed: dict[str, Any] | bool | None = True) -> None:
        """Back to the start: no faults, no stats, no tokens, clock offset 0, the initial configuration.

        Fault rules given at construction are put back. ``seed=True`` re-applies the seed the state was
        created with, ``False``/``None`` leaves it empty,
        a dict applies that seed instead.
        """
        with self.lock:
            self._clear()
            self.faults.clear()
            self.faults.reseed(self.config.random_seed)
            for rule in self._initial_faults:  # the CLI's --latency-ms / --fault-rate survive a reset
                self.faults.add(dataclasses.replace(rule, fired=0))
            self.stats.reset()
            chosen = self._initial_seed if seed is True else (seed or None)
            if isinstance(chosen, dict):
                apply_seed(self, chosen)

    # ------------------------------------------------------------------------------------------- clock

    def now(self) -> float:
        """Emulator time (seconds): the wall clock plus the admin clock offset."""
        return time.time() + self.clock_offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    # ------------------------------------------------------------------------------------------ lookups

    def dataset(self, project_id: str, dataset_id: str) -> DatasetRecord:
        dataset = self.datasets.get(dataset_id)
        if dataset is None or dataset.project_id != project_id:
            raise ApiError("ModelArts.4352", f"dataset {dataset_id!r} not found in project {project_id!r}")
        return dataset

    def task(
        self, project_id: str, dataset_id: str, task_id: str
    ) -> tuple[DatasetRecord, WorkforceTaskRecord]:
        dataset = self.dataset(project_id, dataset_id)
        task = dataset.tasks.get(task_id)
        if task is None:
            raise ApiError(
                "ModelArts.4619", f"team labeling task {task_id!r} not found in dataset {dataset_id!r}"
            )
        return dataset, task

    def next_checking_task_id(self, task: WorkforceTaskRecord) -> str:
        """19 characters like the service's ids, derived from the seed so runs are repeatable."""
        self.checking_counter += 1
        return _service_id(f"{self.config.random_seed}:{task.task_id}:{self.checking_counter}")

    def next_workforce_task_id(self, dataset_id: str) -> str:
        """A new team labeling task id (19 characters, like ``6phXEto29utpaMwbQkg`` on the create page)."""
        self.task_counter += 1
        return _service_id(f"{self.config.random_seed}:workforce-task:{dataset_id}:{self.task_counter}")

    def next_import_task_id(self, dataset_id: str) -> str:
        """A new import task id: the dataset id, ``_`` and 19 characters, like the pages' examples
        (``gfghHSokody6AJigS5A_RHJ1zOkIoI3Nzwxj8nh``)."""
        self.import_counter += 1
        suffix = _service_id(f"{self.config.random_seed}:import:{dataset_id}:{self.import_counter}")
        return f"{dataset_id}_{suffix}"


def _service_id(text: str) -> str:
    """19 letters and digits derived from ``text``: the shape of the service's ids, repeatable per seed."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    number = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    chars = []
    for _ in range(19):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)
