"""The admin API under ``/_emulator/`` (no authentication): reset, seed, inspect, inject faults, move time.

POST   /_emulator/reset                   {"seed": "initial"|"default"|"empty"|{...}} (body optional)
POST   /_emulator/seed                    a seed (see seed.py); adds to the current world
GET    /_emulator/datasets                 ids, names, sample counts, team and import tasks (status, path)
GET    /_emulator/datasets/{id}/samples    raw sample state (dataset and team task views) for assertions
GET    /_emulator/datasets/{id}/workforce-tasks/{task_id}   raw task state, acceptance rounds included
GET    /_emulator/stats                    request counts per route and in total; DELETE resets them
GET    /_emulator/faults                   the rules and how often each fired
POST   /_emulator/faults                   {"rules": [rule, ...], "seed": n} or one rule; adds them
DELETE /_emulator/faults                   removes every rule
POST   /_emulator/advance                  {"steps": n} and/or {"seconds": s}
GET    /_emulator/clock, POST /_emulator/clock   {"offset_seconds": s}: set the clock offset
POST   /_emulator/tokens/expire            {"token": "..."} or {} for all tokens
GET    /_emulator/tokens                   issued tokens without their values
GET    /_emulator/access-keys              the AKs accepted (never an SK)
PUT    /_emulator/access-keys/{ak}         {"secret_key": "..."}: accept that AK with that SK (add or rotate)
DELETE /_emulator/access-keys/{ak}         stop accepting that AK (404 if unknown)
GET    /_emulator/config, POST /_emulator/config   read / change reviewer pace, pass rate, step, ttl, auth,
                                           and the replies the pages allow (config.py: not_found_status,
                                           task_stats_by_flag, task_page_cap, sample_page_cap,
                                           create_task_reply, throttle_task_creates), the request
                                           limit (throttle_concurrency, throttle_rate), lists that move
                                           (list_churn_*, list_count_*, list_ignore_offset) and
                                           latency_jitter_sigma: config.py lists every one
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from . import import_tasks, lifecycle, sample_lists
from .faults import FaultRule
from .security import access_key_ids, remove_access_key, revoke_tokens, set_access_key, token_summary
from .seed import apply_seed, default_seed
from .state import EmulatorState

__all__ = ["admin_router"]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload).encode(), status_code=status, media_type="application/json")


def _bad(message: str, status: int = 400) -> Response:
    return _json({"error_code": "EMULATOR.0400", "error_msg": message}, status)


async def _payload(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as exc:
        raise _AdminError(f"body is not valid JSON: {exc}") from None


class _AdminError(Exception):
    pass


def admin_router(state: EmulatorState) -> APIRouter:
    router = APIRouter(prefix="/_emulator", tags=["emulator admin"])

    def guarded(handler: Any) -> Any:
        async def wrapper(request: Request) -> Response:
            try:
                return await handler(request)
            except (_AdminError, ValueError, TypeError, KeyError) as exc:
                return _bad(str(exc))

        wrapper.__name__ = handler.__name__
        wrapper.__doc__ = handler.__doc__
        return wrapper

    def add(method: str, path: str, handler: Any) -> None:
        router.add_api_route(path, guarded(handler), methods=[method], name=f"admin_{handler.__name__}")

    async def reset(request: Request) -> Response:
        """Back to the start (faults, stats, tokens, clock, config); re-seed with the startup seed."""
        payload = await _payload(request)
        choice = payload.get("seed", "initial") if isinstance(payload, dict) else "initial"
        if choice in ("initial", True, None):
            state.reset(True)
        elif choice in ("empty", False):
            state.reset(False)
        elif choice == "default":
            state.reset(default_seed())
        elif isinstance(choice, dict):
            state.reset(choice)
        else:
            raise _AdminError("seed must be 'initial', 'default', 'empty' or a seed object")
        return _json({"reset": True, "datasets": sorted(state.datasets)})

    async def seed(request: Request) -> Response:
        """Add a seed's teams, datasets and tasks."""
        payload = await _payload(request)
        return _json(apply_seed(state, payload))

    async def datasets(request: Request) -> Response:
        with state.lock:
            return _json(
                [
                    {
                        "dataset_id": d.dataset_id,
                        "dataset_name": d.dataset_name,
                        "project_id": d.project_id,
                        "samples": len(d.samples),
                        "workforce_tasks": {task_id: task.status for task_id, task in d.tasks.items()},
                        "import_tasks": {
                            task_id: {"status": task.status, "import_path": task.import_path}
                            for task_id, task in d.imports.items()
                        },
                    }
                    for d in state.datasets.values()
                ]
            )

    async def dataset_samples(request: Request) -> Response:
        """Every sample of a dataset with its dataset labels and, per team task, its task state."""
        dataset_id = request.path_params["dataset_id"]
        lifecycle.tick(state)
        with state.lock:
            dataset = state.datasets.get(dataset_id)
            if dataset is None:
                return _bad(f"no dataset {dataset_id!r}", 404)
            rows = []
            for record in dataset.samples.values():
                row = sample_lists.dataset_sample_view(dataset, record)
                row["to_be_confirmed"] = record.to_be_confirmed
                row["data_md5"] = record.data_md5
                row["tasks"] = {
                    task_id: {
                        "state": ts.state,
                        "labels": ts.labels or [],
                        "worker_id": ts.worker_id,
                        "sampled": ts.sampled,
                        "check_accept": ts.check_accept,
                    }
                    for task_id, task in dataset.tasks.items()
                    if (ts := task.samples.get(record.sample_id)) is not None
                }
                rows.append(row)
            return _json({"dataset_id": dataset_id, "sample_count": len(rows), "samples": rows})

    async def task_state(request: Request) -> Response:
        """Raw team labeling task state, every acceptance round included."""
        dataset_id = request.path_params["dataset_id"]
        task_id = request.path_params["task_id"]
        lifecycle.tick(state)
        with state.lock:
            dataset = state.datasets.get(dataset_id)
            task = dataset.tasks.get(task_id) if dataset else None
            if dataset is None or task is None:
                return _bad(f"no team labeling task {task_id!r} in dataset {dataset_id!r}", 404)
            return _json(
                {
                    "task_id": task.task_id,
                    "status": task.status,
                    "next_status": task.next_status,
                    "samples": len(task.samples),
                    "rounds": [
                        {
                            "checking_task_id": r.task_id,
                            "sampled": r.sampled,
                            "results": r.results,
                            "action": r.action,
                            "overwrite_last_result": r.overwrite_last_result,
                            "cancelled": r.cancelled,
                        }
                        for r in task.checking
                    ],
                    "current": task.current.task_id if task.current else None,
                }
            )

    async def stats(request: Request) -> Response:
        """Request counts per route name and in total (applied, dropped, faulted, refused, by status)."""
        return _json(state.stats.snapshot())

    async def reset_stats(request: Request) -> Response:
        state.stats.reset()
        return _json(state.stats.snapshot())

    async def list_faults(request: Request) -> Response:
        return _json({"rules": state.faults.rules()})

    async def add_faults(request: Request) -> Response:
        """Add rules: ``{"rules": [...]}`` or a single rule object; ``"seed"`` reseeds the fault RNG."""
        payload = await _payload(request)
        if not isinstance(payload, dict):
            raise _AdminError("body must be a JSON object")
        if "seed" in payload:
            state.faults.reseed(int(payload["seed"]))
        raw_rules = payload.get("rules")
        if raw_rules is None:
            raw_rules = (
                [] if set(payload) <= {"seed"} else [{k: v for k, v in payload.items() if k != "seed"}]
            )
        rules = [FaultRule.from_dict(rule) for rule in raw_rules]  # all valid before any is added
        for rule in rules:
            state.faults.add(rule)
        return _json({"rules": state.faults.rules()})

    async def clear_faults(request: Request) -> Response:
        state.faults.clear()
        return _json({"rules": []})

    async def advance(request: Request) -> Response:
        """Move time: ``steps`` applies simulated steps now, ``seconds`` moves the clock forward."""
        payload = await _payload(request)
        steps = int(payload.get("steps", 0))
        seconds = float(payload.get("seconds", 0.0))
        if steps < 0 or seconds < 0:
            raise _AdminError("steps and seconds must not be negative")
        applied = lifecycle.advance(state, steps=steps, seconds=seconds)
        with state.lock:
            tasks = {
                f"{d.dataset_id}/{task_id}": task.status
                for d in state.datasets.values()
                for task_id, task in d.tasks.items()
            }
        return _json({"steps_applied": applied, "clock_offset": state.clock_offset, "tasks": tasks})

    async def get_clock(request: Request) -> Response:
        return _json({"now": state.now(), "offset_seconds": state.clock_offset})

    async def set_clock(request: Request) -> Response:
        """Set the clock offset (seconds, may be negative): ages tokens and skews AK/SK date checks."""
        payload = await _payload(request)
        offset = float(payload.get("offset_seconds", payload.get("offset", 0.0)))
        with state.lock:
            state.clock_offset = offset
        lifecycle.tick(state)
        return _json({"now": state.now(), "offset_seconds": state.clock_offset})

    async def expire_tokens(request: Request) -> Response:
        payload = await _payload(request)
        token = payload.get("token") if isinstance(payload, dict) else None
        return _json({"expired": revoke_tokens(state, token)})

    async def tokens(request: Request) -> Response:
        return _json({"tokens": token_summary(state)})

    async def access_keys(request: Request) -> Response:
        return _json({"access_keys": access_key_ids(state)})

    async def put_access_key(request: Request) -> Response:
        """Add an AK or rotate its SK: requests signed with the old SK are refused from now on."""
        payload = await _payload(request)
        if not isinstance(payload, dict) or "secret_key" not in payload:
            raise _AdminError('body must be {"secret_key": "..."}')
        replaced = set_access_key(state, request.path_params["access_key"], payload["secret_key"])
        return _json({"access_keys": access_key_ids(state), "replaced": replaced})

    async def delete_access_key(request: Request) -> Response:
        access_key = request.path_params["access_key"]
        if not remove_access_key(state, access_key):
            return _bad(f"no access key {access_key!r}", 404)
        return _json({"access_keys": access_key_ids(state)})

    async def delete_import(request: Request) -> Response:
        """Forget an import task: its details then answer 4612 ("task gone"), read as NOT_EXIST."""
        params = request.path_params
        if not import_tasks.delete_import_task(state, params["dataset_id"], params["task_id"]):
            return _bad(f"no import task {params['task_id']!r}", 404)
        return _json({"deleted": params["task_id"]})

    async def get_config(request: Request) -> Response:
        return _json(state.config.public())

    async def set_config(request: Request) -> Response:
        payload = await _payload(request)
        if not isinstance(payload, dict):
            raise _AdminError("body must be a JSON object of settings")
        with state.lock:
            lifecycle.tick(state)  # settle time owed under the old pace first
            state.config.update(payload)
            state.last_tick = state.now()
        return _json(state.config.public())

    add("POST", "/reset", reset)
    add("POST", "/seed", seed)
    add("GET", "/datasets", datasets)
    add("GET", "/datasets/{dataset_id}/samples", dataset_samples)
    add("GET", "/datasets/{dataset_id}/workforce-tasks/{task_id}", task_state)
    add("GET", "/stats", stats)
    add("DELETE", "/stats", reset_stats)
    add("GET", "/faults", list_faults)
    add("POST", "/faults", add_faults)
    add("DELETE", "/faults", clear_faults)
    add("POST", "/advance", advance)
    add("GET", "/clock", get_clock)
    add("POST", "/clock", set_clock)
    add("POST", "/tokens/expire", expire_tokens)
    add("GET", "/tokens", tokens)
    add("GET", "/access-keys", access_keys)
    add("PUT", "/access-keys/{access_key}", put_access_key)
    add("DELETE", "/access-keys/{access_key}", delete_access_key)
    add("DELETE", "/datasets/{dataset_id}/import-tasks/{task_id}", delete_import)
    add("GET", "/config", get_config)
    add("POST", "/config", set_config)
    return router
