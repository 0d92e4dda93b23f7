"""Signing cost: CPU to sign one request with AK/SK, ours against Huawei's official signer in the same run.

Usage: ``python bench/bench_signing.py [--requests 3000] [--rounds 7]``

Ours: ``AkSkAuth.sign_request`` (what ``auth_flow`` does for every request and every retry: date, token and
project headers, canonical request, SHA-256 of the body, HMAC, ``Authorization``) on ``httpx.Request``s built
the way the client builds them. Theirs: ``huaweicloudsdkcore.signer.signer.Signer.sign`` (the official Python
SDK's ``SDK-HMAC-SHA256``, a bench-only dependency) on ``SdkRequest``s holding the same method, path, query,
headers and body. Requests are built before the clock starts, so only signing is timed, in CPU time of this
process (``time.process_time``). Each round signs ``--requests`` fresh requests with ours, then with theirs;
the figures are the median rounds and the target is ours / theirs at most 1.0 for the headline request.

Before timing, one request of each kind is signed by both with the same fixed ``X-Sdk-Date``: the two
``Authorization`` values are compared and both requests are verified with the emulator's gateway check
(``modelarts_emulator/signature.py``). A difference is reported in the row's note, not raised: it would be
a finding about one signer, and the timing is still worth having.

Three request kinds, because the body hash is the only part that grows with the request:

* ``GET`` team task details with two query flags (empty body) -- what a sensor / trigger poll sends;
* ``PUT`` a 100-sample label update (~14 KB JSON) -- what UpdateLabelsOperator sends, the headline figure;
* ``POST`` 100 samples carrying 600 bytes of image data each (~90 KB) -- shows the per-KB hashing cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import Row, check, emit

from airflow_provider_modelarts.auth import AkSkAuth

TARGET_RATIO = 1.0  # ours / the official signer, headline request
BASE = "https://modelarts.cn-north-4.myhuaweicloud.com"
HOST = "modelarts.cn-north-4.myhuaweicloud.com"
PROJECT = "0123456789abcdef0123456789abcdef"
AK = "AKBENCHMARK000000001"
SK = "bench-secret-key"
TOKEN = "tok" * 200
FIXED_DATE = "20261203T010203Z"


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


@dataclass(frozen=True)
class Shape:
    """One request, in the parts both signers take."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def url(self) -> str:
        return BASE + self.path + ("?" + "&".join(f"{k}={v}" for k, v in self.query) if self.query else "")


def shape(kind: str) -> Shape:
    headers = [("User-Agent", "airflow-provider-modelarts/bench"), ("Accept", "application/json")]
    if kind == "get":
        path = f"/v2/{PROJECT}/datasets/ds-1/workforce-tasks/task-1"
        query = (("sample_stats", "true"), ("workforce_stats", "true"))
        return Shape("GET", path, query, tuple(headers), b"")
    headers.append(("Content-Type", "application/json"))
    body = _label_batch() if kind == "put" else _upload_batch()
    path = f"/v2/{PROJECT}/datasets/ds-1/data-annotations/samples"
    return Shape("PUT" if kind == "put" else "POST", path, (), tuple(headers), body)


def ours_requests(s: Shape, count: int, date: str | None = None) -> list[httpx.Request]:
    headers = dict(s.headers)
    if date:
        headers["X-Sdk-Date"] = date
    return [httpx.Request(s.method, s.url, headers=headers, content=s.body or None) for _ in range(count)]


def official_requests(s: Shape, count: int, date: str | None = None) -> list[Any]:
    from huaweicloudsdkcore.sdk_request import SdkRequest

    # What the SDK's client puts on a request before signing (BasicCredentials.process_auth_request adds the
    # project id and security token headers); Host and X-Sdk-Date the signer adds itself.
    base = {**dict(s.headers), "X-Project-Id": PROJECT, "X-Security-Token": TOKEN}
    if date:
        base["X-Sdk-Date"] = date
    return [
        SdkRequest(
            method=s.method,
            schema="https",
            host=HOST,
            resource_path=s.path,
            query_params=list(s.query),
            header_params=dict(base),
            body=s.body or "",
        )
        for _ in range(count)
    ]


def ours_signer() -> AkSkAuth:
    return AkSkAuth(AK, SK, security_token=TOKEN, project_id=PROJECT)


def official_signer() -> Any:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.signer.signer import Signer

    return Signer(BasicCredentials(AK, SK, PROJECT))


def agreement(s: Shape) -> str:
    """Sign one request with each signer at a fixed date; '' when both agree and verify, else what differs."""
    from modelarts_emulator.signature import verify_signature

    now = dt.datetime.strptime(FIXED_DATE, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    ours = ours_requests(s, 1, FIXED_DATE)[0]
    ours_signer().sign_request(ours)
    theirs = official_requests(s, 1, FIXED_DATE)[0]
    official_signer().sign(theirs)
    problems = []
    raw_path, _, raw_query = ours.url.raw_path.decode("ascii").partition("?")
    check_ours = verify_signature(
        ours.method, raw_path, raw_query, dict(ours.headers), ours.content, {AK: SK}.get, now=now
    )
    if not check_ours:
        problems.append(f"ours fails the gateway check: {check_ours.reason}")
    theirs_query = theirs.uri.partition("?")[2]
    body = theirs.body if isinstance(theirs.body, bytes) else str(theirs.body).encode()
    check_theirs = verify_signature(
        theirs.method, theirs.resource_path, theirs_query, theirs.header_params, body, {AK: SK}.get, now=now
    )
    if not check_theirs:
        problems.append(f"official fails the gateway check: {check_theirs.reason}")
    if ours.headers["Authorization"] != theirs.header_params["Authorization"]:
        problems.append(
            f"Authorization differs: ours {ours.headers['Authorization']!r}, official "
            f"{theirs.header_params['Authorization']!r}"
        )
    return "; ".join(problems)


def measure(kind: str, count: int, rounds: int) -> tuple[float, float, int]:
    """(ours µs, official µs, body bytes) per signed request, median rounds, alternating within each round."""
    s = shape(kind)
    ours, theirs = ours_signer(), official_signer()
    ours_us: list[float] = []
    theirs_us: list[float] = []
    for _ in range(rounds):
        batch = ours_requests(s, count)
        started = time.process_time()
        for request in batch:
            ours.sign_request(request)
        ours_us.append((time.process_time() - started) / count * 1e6)
        official = official_requests(s, count)
        started = time.process_time()
        for sdk_request in official:
            theirs.sign(sdk_request)
        theirs_us.append((time.process_time() - started) / count * 1e6)
    assert "Authorization" in batch[0].headers and "Authorization" in official[0].header_params
    return statistics.median(ours_us), statistics.median(theirs_us), len(s.body)


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
        "get": "GET team task details, 2 query flags (no body)",
        "put": "PUT 100-sample label update",
        "post": "POST 100 samples with 600 B data each",
    }
    for kind in ("put", "get", "post"):
        differs = agreement(shape(kind))
        ours_us, theirs_us, size = measure(kind, args.requests, args.rounds)
        ratio = ours_us / theirs_us
        print(
            f"{labels[kind]} ({size / 1024:.1f} KB body): ours {ours_us:.1f} us, official huaweicloudsdkcore "
            f"signer {theirs_us:.1f} us per signed request = {ratio:.2f} x; "
            + (
                f"SIGNATURES DIFFER: {differs}"
                if differs
                else "same Authorization, both pass the gateway check"
            )
        )
        agree = (
            f"signers differ: {differs}"
            if differs
            else "same Authorization value at a fixed X-Sdk-Date; both pass the emulator's gateway check"
        )
        metric = f"{labels[kind]} ({size / 1024:.0f} KB): ours / official signer"
        value_note = (
            f"ours {ours_us:.1f} µs, official {theirs_us:.1f} µs per request (CPU, median round); {agree}"
        )
        if kind == "put":
            row = check(
                "4. Signing vs official",
                metric,
                ratio,
                TARGET_RATIO,
                fmt=".2f",
                unit=" x",
                note=value_note,
                extra={"ours_us": ours_us, "official_us": theirs_us},
            )
            row.value = f"{ratio:.2f} x ({ours_us:.1f} / {theirs_us:.1f} µs)"
        else:
            row = Row(
                bench="4. Signing vs official",
                metric=metric,
                value=f"{ratio:.2f} x ({ours_us:.1f} / {theirs_us:.1f} µs)",
                note="context: SHA-256 of the body grows with its size; " + value_note,
                extra={"ours_us": ours_us, "official_us": theirs_us},
            )
        rows.append(row)
    emit(rows)


if __name__ == "__main__":
    main()
