"""Emulator throughput: add-sample requests (10 small samples each) per second on one core (target 1,000).

Usage: ``python bench/bench_emulator.py [--requests 6000] [--concurrency 16] [--inprocess 3000]``

Main figure -- a real server: the emulator CLI (uvicorn, access log off) runs in its own process pinned to
one core (``os.sched_setaffinity``, via ``bench/_common.Emulator``); this process (pinned to the other
cores) sends AK/SK-signed ``POST .../data-annotations/samples`` requests (signed with the project's
``AkSkAuth`` before the clock starts) over ``--concurrency`` keep-alive loopback connections with a bare
asyncio HTTP/1.1 client, so the load generator is not the bottleneck. Reported:

* **server capacity** = requests / CPU seconds the emulator process used (from ``/proc/<pid>/stat``):
  requests per second one fully busy core sustains, whatever the client's own speed;
* **end-to-end** requests per second as this client saw them (limited by the client too).

Context figure -- in process: the ASGI app called directly (no sockets, no HTTP parsing, auth on), in
this process's CPU time: the emulator's own handling cost.

Every request adds 10 new samples (~100 bytes of base64 data each) with unique names, and every answer is
checked (HTTP 200, ``success`` true), so a fast but wrong emulator cannot pass.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import Emulator, Row, check, cpu_split, emit, pin_self

from airflow_provider_modelarts.auth import AkSkAuth
from modelarts_emulator import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_SECRET_KEY,
)

TARGET_RPS = 1000.0
PATH = f"/v2/{DEFAULT_PROJECT_ID}/datasets/ds-images/data-annotations/samples"
DATA = base64.b64encode(bytes(range(75))).decode()  # 100 base64 characters


def body(request_no: int, tag: str) -> bytes:
    samples = [
        {
            "name": f"{tag}-{request_no:07d}-{i}.jpg",
            "sample_type": 0,
            "data": DATA,
            "labels": [{"name": "cat"}],
        }
        for i in range(10)
    ]
    return json.dumps({"samples": samples}).encode()


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def signed_requests(base_url: str, count: int, tag: str) -> list[bytes]:
    """HTTP/1.1 request bytes, AK/SK-signed by the project's own signer before the clock starts."""
    host = base_url.split("//", 1)[1]
    auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=DEFAULT_PROJECT_ID)
    wire = []
    for index in range(count):
        request = httpx.Request(
            "POST", base_url + PATH, content=body(index, tag), headers={"Content-Type": "application/json"}
        )
        auth.sign_request(request)
        head = [f"POST {PATH} HTTP/1.1", f"Host: {host}"]
        head += [f"{name}: {value}" for name, value in request.headers.items() if name.lower() != "host"]
        wire.append(("\r\n".join(head) + "\r\n\r\n").encode() + request.content)
    return wire


async def _connection(host: str, port: int, requests: list[bytes], failures: list[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for raw in requests:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            answer = await reader.readexactly(length)
            if head[9:12] != b"200" or not json.loads(answer).get("success"):
                failures.append(f"HTTP {head[9:12].decode()}: {answer[:200]!r}")
                return
    finally:
        writer.close()


async def drive(base_url: str, requests: list[bytes], concurrency: int) -> float:
    """Send the requests over ``concurrency`` keep-alive connections, one request in flight on each.

    A bare asyncio HTTP/1.1 client: a full HTTP client library costs more CPU per request than the emulator
    does and, on a small machine, would measure itself instead of the server.
    """
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)
    failures: list[str] = []
    shares = [requests[i::concurrency] for i in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(host, int(port), share, failures) for share in shares))
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"emulator answered wrongly: {failures[0]}")
    return elapsed


def real_server(requests: int, concurrency: int) -> tuple[float, float, str]:
    pinning = pin_self()
    with tempfile.TemporaryDirectory() as tmp, Emulator(Path(tmp), "--step-seconds", "0") as emulator:
        warmup = signed_requests(emulator.base_url, min(500, requests), "warmup")
        measured = signed_requests(emulator.base_url, requests, "run")
        asyncio.run(drive(emulator.base_url, warmup, concurrency))
        cpu_before = proc_cpu_seconds(emulator.pid)
        elapsed = asyncio.run(drive(emulator.base_url, measured, concurrency))
        server_cpu = proc_cpu_seconds(emulator.pid) - cpu_before
        stats = emulator.admin("GET", "stats")
    applied = stats["routes"]["add_samples"]["status_200"]
    if applied < requests:
        raise SystemExit(f"emulator counted {applied} successful add_samples, expected at least {requests}")
    return requests / server_cpu, requests / elapsed, pinning


def in_process(requests: int) -> float:
    """Drive the ASGI app directly with raw ASGI messages; CPU seconds of this process."""
    from modelarts_emulator import EmulatorConfig, EmulatorState, create_app, default_seed

    state = EmulatorState(EmulatorConfig(step_seconds=None), seed=default_seed())
    state.reset()
    app = create_app(state)
    auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=DEFAULT_PROJECT_ID)
    scopes = []
    for i in range(requests):
        request = httpx.Request(
            "POST",
            f"http://emulator{PATH}",
            content=body(i, "asgi"),
            headers={"Content-Type": "application/json"},
        )
        auth.sign_request(request)
        headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": PATH,
            "raw_path": PATH.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("emulator", 80),
        }
        scopes.append((scope, request.content))

    async def run() -> float:
        statuses: list[int] = []
        started = time.process_time()
        for scope, content in scopes:

            async def receive(content: bytes = content) -> dict[str, object]:
                return {"type": "http.request", "body": content, "more_body": False}

            async def send(message: dict[str, object]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(int(message["status"]))  # type: ignore[call-overload]

            await app(scope, receive, send)
        cpu = time.process_time() - started
        if statuses.count(200) != len(scopes):
            raise SystemExit(f"in-process run: {len(scopes) - statuses.count(200)} requests failed")
        return cpu

    cpu = asyncio.run(run())
    return requests / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--inprocess", type=int, default=3000, help="requests for the in-process figure (0: skip)"
    )
    args = parser.parse_args()

    _, emulator_cores = cpu_split()  # before pin_self() narrows this process's own affinity
    capacity, end_to_end, pinning = real_server(args.requests, args.concurrency)
    print(f"real server (uvicorn in a separate process; {pinning}):")
    print(
        f"  server capacity: {capacity:,.0f} add-sample requests/s per core (10 samples each) = "
        f"{capacity / TARGET_RPS:.2f}x the {TARGET_RPS:,.0f} req/s target"
    )
    print(f"  end to end as this client saw it: {end_to_end:,.0f} req/s ({args.concurrency} in flight)")
    rows: list[Row] = [
        check(
            "emulator",
            "server CPU per add-sample request (10 samples; <= 1 ms = 1,000 req/s per core)",
            1e6 / capacity,
            1e6 / TARGET_RPS,
            fmt=".0f",
            unit=" us",
            note=f"{capacity:,.0f} req/s per core = {capacity / TARGET_RPS:.2f}x target; "
            f"{end_to_end:,.0f} req/s end to end",
            extra={
                "capacity_rps": capacity,
                "end_to_end_rps": end_to_end,
                "pinned": emulator_cores is not None,
            },
        )
    ]
    if args.inprocess:
        rps = in_process(args.inprocess)
        print(
            f"in process (ASGI app called directly, no HTTP): {rps:,.0f} req/s on one core "
            f"= {rps / TARGET_RPS:.2f}x"
        )
        rows.append(
            Row(
                bench="emulator",
                metric="in-process ASGI add-sample requests/s (context: no sockets, no HTTP parsing)",
                value=f"{rps:,.0f} req/s",
                note=f"{rps / TARGET_RPS:.2f}x the 1,000 req/s target",
            )
        )
    emit(rows)


if __name__ == "__main__":
    main()
