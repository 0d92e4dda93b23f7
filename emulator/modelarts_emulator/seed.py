"""Seeds: the datasets, labeling teams and team labeling tasks the emulator starts with.

A seed is JSON (``--seed FILE.json``, ``POST /_emulator/seed``)::

    {
      "project_id": "6d6f64656c617274732d656d756c6174",      # optional; must be the configured project
      "workforces": [{"workforce_id": "wf-1", "workforce_name": "team-a",
                      "workers": [{"worker_id": "w-1", "email": "a@example.com", "role": 0}]}],
      "datasets": [{
        "dataset_id": "ds-images", "dataset_name": "images", "dataset_type": 0,
        "labels": [{"name": "cat", "type": 0}],                # the dataset's label set (informational)
        "samples": [{"name": "cat-1.jpg", "sample_type": 0, "size": 2048,
                     "labels": [{"name": "cat", "type": 0}], "metadata": {...}}],
        "workforce_tasks": [{
          "task_id": "task-1", "task_name": "label images", "status": 1,
          "workforce_ids": ["wf-1"],                          # default: every workforce in the seed
          "synchronize_data": true,                           # samples added later join the task
          "samples": [{"name": "cat-1.jpg", "labels": [...], "worker_id": "w-1"}]   # default: every sample
        }]
      }]
    }

Samples are referenced by name; their ids are derived (md5 of ``dataset_id/name``). A task sample with labels
starts labeled (waiting for acceptance), one without starts unlabeled. Seeding a dataset id that exists
replaces that dataset.
"""

from __future__ import annotations

import copy
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .config import EmulatorConfig
from .records import BUCKET, DatasetRecord, SampleRecord, TaskSample, WorkforceTaskRecord, sample_id_for

__all__ = [
    "DEFAULT_DATASET_ID",
    "DEFAULT_SEED",
    "DEFAULT_TASK_ID",
    "SeedTarget",
    "apply_seed",
    "default_seed",
]


class SeedTarget(Protocol):
    """What a seed is applied to: :class:`~.state.EmulatorState` (``state.py`` imports this module to seed
    itself on reset, so this module names only the parts it uses, not the class)."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def workforces(self) -> dict[str, dict[str, Any]]: ...

    @property
    def datasets(self) -> dict[str, DatasetRecord]: ...

    def now_ms(self) -> int: ...


def _image_label(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "type": 0, "property": {}}]


def _shape(name: str, shape: str, feature: list[list[int]]) -> dict[str, Any]:
    """An object detection label (SampleLabelProperty ``@modelarts:shape`` and its ``@modelarts:feature``)."""
    return {"name": name, "type": 1, "property": {"@modelarts:shape": shape, "@modelarts:feature": feature}}


#: The default seed's image dataset (6 samples: cat-1..3.jpg, dog-1..3.jpg) and its team labeling task
#: (RUNNING, every sample labeled by worker-ann, waiting for acceptance): the ids the tests and demos use.
DEFAULT_DATASET_ID = "ds-images"
DEFAULT_TASK_ID = "task-1"

DEFAULT_SEED: dict[str, Any] = {
    "workforces": [
        {
            "workforce_id": "wf-emulator",
            "workforce_name": "emulator-team",
            "workers": [
                {"worker_id": "worker-ann", "email": "ann@example.com", "role": 0, "status": 2},
                {"worker_id": "worker-bob", "email": "bob@example.com", "role": 1, "status": 2},
            ],
        }
    ],
    "datasets": [
        {
            "dataset_id": DEFAULT_DATASET_ID,
            "dataset_name": "pets-images",
            "dataset_type": 0,
            "description": "image classification: cats and dogs",
            "labels": [{"name": "cat", "type": 0}, {"name": "dog", "type": 0}],
            "samples": [
                {"name": f"{kind}-{index}.jpg", "sample_type": 0, "size": 2048 + index}
                for kind in ("cat", "dog")
                for index in (1, 2, 3)
            ],
            "workforce_tasks": [
                {
                    "task_id": DEFAULT_TASK_ID,
                    "task_name": "label-pets",
                    "status": 1,
                    "synchronize_data": True,
                    "samples": [
                        {
                            "name": f"{kind}-{index}.jpg",
                            "labels": _image_label(kind),
                            "worker_id": "worker-ann",
                        }
                        for kind in ("cat", "dog")
                        for index in (1, 2, 3)
                    ],
                }
            ],
        },
        {
            # Labels with shapes, for the console to draw (and people to look at): boxes, a polygon, a
            # circle and a point, on images whose size is in their metadata as the pages ask.
            "dataset_id": "ds-objects",
            "dataset_name": "pets-objects",
            "dataset_type": 1,
            "description": "object detection: where the cats and dogs are",
            "labels": [{"name": "cat", "type": 1}, {"name": "dog", "type": 1}],
            "samples": [
                {
                    "name": "living-room.jpg",
                    "sample_type": 0,
                    "size": 48213,
                    "metadata": {"@modelarts:size": [640, 480, 3]},
                    "labels": [
                        _shape("cat", "bndbox", [[64, 210], [250, 420]]),
                        _shape("dog", "bndbox", [[330, 150], [590, 440]]),
                    ],
                },
                {
                    "name": "garden.jpg",
                    "sample_type": 0,
                    "size": 51877,
                    "metadata": {"@modelarts:size": [640, 480, 3]},
                    "labels": [
                        _shape("dog", "polygon", [[90, 300], [210, 220], [330, 260], [310, 430], [120, 440]]),
                        _shape("cat", "circle", [[480, 170], [70]]),
                        _shape("cat", "point", [[560, 400]]),
                    ],
                },
            ],
        },
        {
            "dataset_id": "ds-text",
            "dataset_name": "reviews-text",
            "dataset_type": 100,
            "description": "text classification: product reviews",
            "labels": [{"name": "positive", "type": 100}, {"name": "negative", "type": 100}],
            "samples": [
                {"name": f"review-{index}.txt", "sample_type": 1, "size": 120 + index} for index in (1, 2, 3)
            ],
        },
    ],
}


def default_seed() -> dict[str, Any]:
    """A fresh copy of the default seed (callers may change it)."""
    return copy.deepcopy(DEFAULT_SEED)


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping or mapping[key] in (None, ""):
        raise ValueError(f"seed: {where} needs {key!r}")
    return mapping[key]


def apply_seed(state: SeedTarget, seed: dict[str, Any]) -> dict[str, Any]:
    """Add the seed's teams, datasets and tasks to ``state``; returns what was created (ids)."""
    if not isinstance(seed, dict):
        raise ValueError("seed must be a JSON object")
    with state.lock:
        project_id = state.config.project_id
        foreign = {seed.get("project_id")} | {d.get("project_id") for d in seed.get("datasets") or []}
        foreign -= {None, "", project_id}
        if foreign:
            # The emulator serves one project and refuses every other one (403 ModelArts.0210).
            raise ValueError(
                f"seed: project {sorted(map(str, foreign))[0]!r} is not the emulator's project {project_id!r}"
            )
        now = state.now_ms()
        for team in seed.get("workforces") or []:
            workforce_id = _require(team, "workforce_id", "a workforce")
            team = copy.deepcopy(team)
            for worker in team.get("workers") or []:
                _require(worker, "worker_id", f"a worker of workforce {workforce_id!r}")
                worker.setdefault("workforce_id", workforce_id)
                worker.setdefault("role", 0)
            state.workforces[workforce_id] = team
        created: dict[str, Any] = {"datasets": [], "workforce_tasks": [], "samples": 0}
        for index, data in enumerate(seed.get("datasets") or []):
            dataset = _seed_dataset(state, project_id, data, index, now)
            state.datasets[dataset.dataset_id] = dataset
            created["datasets"].append(dataset.dataset_id)
            created["samples"] += len(dataset.samples)
            created["workforce_tasks"].extend(dataset.tasks)
        return created


def _seed_dataset(
    state: SeedTarget, project_id: str, data: dict[str, Any], index: int, now: int
) -> DatasetRecord:
    dataset_id = _require(data, "dataset_id", f"datasets[{index}]")
    dataset = DatasetRecord(
        dataset_id=dataset_id,
        dataset_name=data.get("dataset_name", dataset_id),
        dataset_type=int(data.get("dataset_type", 0)),
        project_id=project_id,
        create_time=now,
        description=data.get("description", ""),
        labels=list(data.get("labels") or []),
    )
    for position, sample in enumerate(data.get("samples") or []):
        name = _require(sample, "name", f"dataset {dataset_id!r} samples[{position}]")
        if name in dataset.names:
            raise ValueError(f"seed: dataset {dataset_id!r} lists sample {name!r} twice")
        sample_id = sample_id_for(dataset_id, name)
        labels = sample.get("labels") or None
        dataset.samples[sample_id] = SampleRecord(
            sample_id=sample_id,
            name=name,
            sample_type=sample.get("sample_type"),
            size=int(sample.get("size", 0)),
            source=f"{BUCKET}/{dataset_id}/{name}",
            sample_time=now + position,  # distinct times keep "newest first" listings stable
            labels=copy.deepcopy(labels),
            metadata=copy.deepcopy(sample.get("metadata")),
            sample_usage=sample.get("sample_usage"),
        )
        dataset.names[name] = sample_id
    for position, task_data in enumerate(data.get("workforce_tasks") or []):
        task = _seed_task(state, dataset, task_data, position, now)
        dataset.tasks[task.task_id] = task
    return dataset


def _seed_task(
    state: SeedTarget, dataset: DatasetRecord, data: dict[str, Any], position: int, now: int
) -> WorkforceTaskRecord:
    where = f"dataset {dataset.dataset_id!r} workforce_tasks[{position}]"
    task_id = _require(data, "task_id", where)
    status = int(data.get("status", 1))
    if status not in (0, 1, 3, 4, 6):
        raise ValueError(
            f"seed: task {task_id!r} status must be 0, 1, 3, 4 or 6 (start acceptances through the API)"
        )
    team_ids = data.get("workforce_ids") or list(state.workforces)
    teams = []
    for workforce_id in team_ids:
        if workforce_id not in state.workforces:
            raise ValueError(f"seed: task {task_id!r} names unknown workforce {workforce_id!r}")
        teams.append(copy.deepcopy(state.workforces[workforce_id]))
    task = WorkforceTaskRecord(
        task_id=task_id,
        task_name=data.get("task_name", task_id),
        dataset_id=dataset.dataset_id,
        status=status,
        create_time=now,
        update_time=now,
        workforces=teams,
        description=data.get("description", ""),
        synchronize_data=bool(data.get("synchronize_data", True)),
        steps_left=0,
    )
    entries = data.get("samples")
    if entries is None:
        entries = [{"name": record.name} for record in dataset.samples.values()]
    for entry in entries:
        name = _require(entry, "name", f"a sample of task {task_id!r}")
        sample_id = dataset.names.get(name)
        if sample_id is None:
            raise ValueError(
                f"seed: task {task_id!r} names sample {name!r}, which dataset {dataset.dataset_id!r} lacks"
            )
        labels = copy.deepcopy(entry.get("labels")) or None
        task.samples[sample_id] = TaskSample(
            sample_id=sample_id,
            state=entry.get("state") or ("UNCHECK" if labels else "UN_ANNOTATION"),
            labels=labels,
            worker_id=entry.get("worker_id"),
            update_time=now,
        )
    return task
