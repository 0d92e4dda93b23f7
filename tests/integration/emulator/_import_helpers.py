"""What the import-task tests of the emulator and of the operator share: objects put in the S3 store."""

from __future__ import annotations

import json
from typing import Any

from modelarts_emulator.obs_server import S3Server

BUCKET = "raw-images"


def put_day(store: S3Server, prefix: str = "day1", cats: int = 3, dogs: int = 2, empty: int = 0) -> str:
    """Images under ``prefix/cat/`` and ``prefix/dog/`` (and ``empty`` zero-byte files); the dir path."""
    client = store.client()
    if BUCKET not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=BUCKET)
    for label, count in (("cat", cats), ("dog", dogs)):
        for i in range(count):
            client.put_object(
                Bucket=BUCKET, Key=f"{prefix}/{label}/{label}_{i:03}.jpg", Body=b"\xff\xd8" * (i + 8)
            )
    for i in range(empty):
        client.put_object(Bucket=BUCKET, Key=f"{prefix}/broken_{i}.jpg", Body=b"")
    return f"obs://{BUCKET}/{prefix}/"


def put_manifest(store: S3Server, key: str, lines: list[dict[str, Any] | str]) -> str:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    store.client().put_object(Bucket=BUCKET, Key=key, Body=text.encode())
    return f"s3://{BUCKET}/{key}"
