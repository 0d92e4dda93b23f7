"""An in-memory import task service (a duck-typed client) for the import_tasks unit tests.

It answers the three calls ``start_or_adopt`` and ``read_task`` make: the list (in the order the test gives,
no filter, as the page), create (optionally refused, or applied with its answer lost, or answered without a
``task_id``) and details. Time is the test's: ``now`` is epoch ms, and each create records it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from airflow_provider_modelarts.errors import ModelArtsError, ModelArtsTransportError, error_from_response
from airflow_provider_modelarts.models import ImportTaskStatusResp, parse_response

NOW = 1_765_000_000_000  # epoch ms of the tests' "now"


def api_error(status: int, code: str) -> ModelArtsError:
    request = httpx.Request("POST", "https://modelarts.example.com/v2/p/datasets/ds/import-tasks")
    return error_from_response(
        httpx.Response(status, json={"error_code": code, "error_msg": "x"}, request=request)
    )


def task(task_id: str, path: str = "obs://raw/day1/", status: str = "COMPLETED", mode: int = 0,
         created: int | None = NOW, **fields: Any) -> ImportTaskStatusResp:  # fmt: skip
    data = {"task_id": task_id, "import_path": path, "import_type": mode, "status": status, **fields}
    if created is not None:
        data["create_time"] = created
    return parse_response(ImportTaskStatusResp, data)


class FakeImports:
    """The import task list of one dataset, and what each call did."""

    def __init__(self, *tasks: ImportTaskStatusResp) -> None:
        self.tasks = list(tasks)
        self.now = NOW
        self.creates: list[dict[str, Any]] = []
        self.lists = 0
        #: Errors the next creates raise, in order (an applied one first creates the task).
        self.create_errors: list[tuple[ModelArtsError, bool]] = []
        self.reply_without_id = False
        #: Lists that do not show tasks the fake created yet.
        self.lagging_lists = 0
        self.gone: set[str] = set()
        #: Tasks another caller creates at the moment of the next create (a race the list did not show).
        self.appear_on_create: list[ImportTaskStatusResp] = []

    def lose_answer(self) -> None:
        cause = httpx.ReadTimeout("read timed out")
        self.create_errors.append((ModelArtsTransportError(method="POST", path="/x", cause=cause), True))

    def refuse(self, status: int, code: str) -> None:
        self.create_errors.append((api_error(status, code), False))

    def iter_import_tasks(self, dataset_id: str) -> Iterator[ImportTaskStatusResp]:
        self.lists += 1
        if self.lagging_lists > 0:
            self.lagging_lists -= 1
            return iter([t for t in self.tasks if t.task_id not in {c["task_id"] for c in self.creates}])
        return iter(list(self.tasks))

    def create_import_task(self, dataset_id: str, body: dict[str, Any]) -> Any:
        self.tasks += self.appear_on_create
        self.appear_on_create = []
        error, applied = self.create_errors.pop(0) if self.create_errors else (None, True)
        task_id = f"created-{len(self.creates) + 1}"
        if applied:
            mode = 1 if body.get("import_type") == "manifest" else 0
            self.creates.append({"task_id": task_id, **body})
            self.tasks.append(task(task_id, body["import_path"], "QUEUING", mode, created=self.now))
        if error is not None:
            raise error
        return parse_response(ImportTaskStatusResp, {} if self.reply_without_id else {"task_id": task_id})

    def get_import_task(self, dataset_id: str, task_id: str) -> ImportTaskStatusResp:
        if task_id in self.gone:
            raise api_error(400, "ModelArts.4612")
        return next(t for t in self.tasks if t.task_id == task_id)
