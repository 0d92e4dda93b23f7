"""Signing cost: microseconds of CPU to sign one request with AK/SK (target: under 50 us).

Usage: ``python bench/bench_signing.py [--requests 3000] [--rounds 7]``

What is measured: ``AkSkAuth.sign_request`` (what ``auth_flow`` does for every request and every retry: date
and token headers, canonical request, SHA-256 of the body, HMAC) on requests built the way the client builds
them (base URL, default headers, JSON content type, a security token). The requests are built before the
clock starts, so only signing is timed, in CPU time of this process (``time.process_time``: other processes
on a busy machine do not inflate it). Each round signs ``--requests`` fresh requests; the figure is the
median round.

Three request kinds, because the body hash is the only part that grows with the request:

* ``GET`` task details (empty body) -- what a sensor / trigger poll sends;
* ``PUT`` a 100-sample label update (~14 KB JSON) -- what UpdateLabelsOperator sends, the headline figure;
* ``POST`` 100 samples carrying 600 bytes of image data each (~90 KB) -- shows the per-KB hashing cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import check, emit

from airflow_provider_modelarts.auth import AkSkAuth

TARGET_US = 50.0
BASE = "https://modelarts.cn-north-4.myhuaweicloud.com"
PROJECT = "0123456789abcdef0123456789abcdef"


def _label_batch() -> bytes:
    samples = [
        {
            "sample_id": f"{i:032x}",
            "labels": [{"name": "cat", "type": 0, "score": 0.93, "property": {"color": "black"}}],
        }
        for i in range(100)
    ]
    return json.dumps({"samples": samples}).encode()


def _upload_batch() -> bytes:
    import base64
    import random

    rng = random.Random(1)
    samples = [
        {"name": f"img-{i:06d}.jpg", "sample_type": 0, "data": base64.b64encode(rng.randbytes(600)).decode()}
        for i in range(100)
    ]
    return json.dumps({"samples": samples}).encode()


def _requests(kind: str, count: int) -> list[httpx.Request]:
    headers = {
        "User-Agent": "airflow-provider-modelarts/bench",
        "Accept": "application/json",
        "X-Project-Id": PROJECT,
    }
    if kind == "get":
        url = f"{BASE}/v2/{PROJECT}/datasets/ds-1/workforce-tasks/task-1"
        return [httpx.Request("GET", url, headers=headers) for _ in range(count)]
    body = _label_batch() if kind == "put" else _upload_batch()
    headers["Content-Type"] = "application/json"
    method = "PUT" if kind == "put" else "POST"
    url = f"{BASE}/v2/{PROJECT}/datasets/ds-1/data-annotations/samples"
    return [httpx.Request(method, url, headers=headers, content=body) for _ in range(count)]


def measure(kind: str, count: int, rounds: int) -> tuple[float, int]:
    auth = AkSkAuth("AKBENCHMARK000000001", "bench-secret-key", security_token="tok" * 200)
    per_request: list[float] = []
    size = 0
    for _ in range(rounds):
        batch = _requests(kind, count)
        size = len(batch[0].content)
        started = time.process_time()
        for request in batch:
            auth.sign_request(request)
        per_request.append((time.process_time() - started) / count * 1e6)
    assert "Authorization" in batch[0].headers
    return statistics.median(per_request), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    measure("put", 200, 1)  # warm-up: caches, first-call imports
    rows = []
    labels = {
        "get": "GET task details (no body)",
        "put": "PUT 100-sample label update",
        "post": "POST 100 samples with 600 B data each",
    }
    for kind in ("put", "get", "post"):
        us, size = measure(kind, args.requests, args.rounds)
        print(f"{labels[kind]} ({size / 1024:.1f} KB body): {us:.1f} us per signed request")
        headline = kind == "put"
        row = check(
            "4. Signing cost",
            f"{labels[kind]} ({size / 1024:.0f} KB)",
            us,
            TARGET_US,
            fmt=".1f",
            unit=" µs",
            op="<",
            note="" if headline else "context: SHA-256 of the body grows with its size",
        )
        if not headline:
            row.ok = None
            row.target = ""
            row.ratio = None
        rows.append(row)
    emit(rows)


if __name__ == "__main__":
    main()
