"""The emulator's OBS: a real S3-compatible server, read through the S3 API (boto3), never a seeded list.

The import tasks (``import_tasks.py``) read ``obs://bucket/prefix/`` (and ``s3://``, the same place, as the
create and list pages' examples show) from the endpoint the emulator is given (``--obs-endpoint``, or the
``obs_endpoint`` setting with ``obs_access_key`` / ``obs_secret_key``); whoever starts the emulator starts
that server (the test fixtures use moto's server mode). What the store answers is mapped to the error table's
OBS codes (``modelarts_error_codes.tsv``):

====================================================  ==============================================
the store says                                        code (tsv message)
====================================================  ==============================================
a path that is not ``obs://`` / ``s3://`` bucket/key  4313 "OBS path is invalid" (invalid characters)
``//`` inside the path                                4315 "Invalid OBS path." (no ``//``)
NoSuchBucket                                          4311 "OBS bucket does not exist"
nothing under the prefix, a manifest that is missing  4312 "OBS path does not exist"
only folder markers or empty objects (an empty        4340 "Import path does not contain valid file"
folder), a manifest with no usable line
AccessDenied (403)                                    4310 "OBS action is forbidden"
an object that cannot be read, a manifest naming      4374 "Invalid path" ("the file is available in
an object that does not exist                         the OBS path")
an object above ``import_max_file_bytes``             4419 "File is too large"
no endpoint, or any other store error                 4314 "Obs error"
====================================================  ==============================================

Whether these come at create or later in a FAILED task is the ``import_path_errors`` setting: the pages do
not say, so both readings are emulated. An object's failure found while reading it is always a FAILED task.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .codes import ApiError
from .config import EmulatorConfig

__all__ = ["ObsObject", "Scan", "read_object", "scan", "split_path"]

_SCHEMES = ("obs", "s3")
_VALID = re.compile(r"^[A-Za-z0-9._/\-]*$")
_clients: dict[tuple[str, str, str], Any] = {}
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class ObsObject:
    """One object to import: where it is, its size, the labels its place or manifest line gives it."""

    bucket: str
    key: str
    size: int
    labels: tuple[str, ...] = ()
    valid: bool = True  # an empty object, or an unusable manifest line, counts in total but is not imported


@dataclass
class Scan:
    """What an import path holds: its objects in a stable order (by key, or the manifest's line order)."""

    objects: list[ObsObject] = field(default_factory=list)
    manifest: bool = False


def split_path(path: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``obs://bucket/key`` or ``s3://bucket/key``; 4313 / 4315 for any other path."""
    scheme, sep, rest = path.strip().partition("://")
    if not sep or scheme.lower() not in _SCHEMES or not rest:
        raise ApiError("ModelArts.4313", f"{path!r} is not an obs:// or s3:// path")
    if "//" in rest:
        raise ApiError("ModelArts.4315", f"{path!r} contains //")
    bucket, _, key = rest.partition("/")
    if not bucket or not _VALID.match(rest):
        raise ApiError("ModelArts.4313", f"{path!r} has characters an OBS path cannot hold")
    return bucket, key


def _client(config: EmulatorConfig) -> Any:
    if not config.obs_endpoint:
        raise ApiError("ModelArts.4314", "the emulator has no OBS endpoint (start it with --obs-endpoint)")
    key = (config.obs_endpoint, config.obs_access_key, config.obs_secret_key)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            client = _clients[key] = boto3.client(
                "s3",
                endpoint_url=config.obs_endpoint,
                aws_access_key_id=config.obs_access_key,
                aws_secret_access_key=config.obs_secret_key,
                region_name=config.obs_region,
                config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
            )
        return client


def _store_error(exc: Exception, what: str, *, missing: str) -> ApiError:
    """The OBS code of a store error (module docstring); ``missing``: the code of a key that is not there."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return ApiError("ModelArts.4311", f"bucket of {what} does not exist")
        if code in ("NoSuchKey", "404", "NotFound") or status == 404:
            return ApiError(missing, f"{what} does not exist")
        if code in ("AccessDenied", "403", "Forbidden") or status == 403:
            return ApiError("ModelArts.4310", f"access to {what} was refused")
        return ApiError("ModelArts.4314", f"{what}: the store answered {code or status}")
    return ApiError("ModelArts.4314", f"{what}: {type(exc).__name__}")


def _too_large(config: EmulatorConfig, bucket: str, key: str, size: int) -> None:
    if size > config.import_max_file_bytes:
        raise ApiError(
            "ModelArts.4419",
            f"obs://{bucket}/{key} is {size:,} bytes (at most {config.import_max_file_bytes:,})",
        )


def _label_of(prefix: str, key: str) -> tuple[str, ...]:
    """A directory import's label: the sub-folder an object sits in below the prefix (``cat/1.jpg``: cat)."""
    parts = key[len(prefix) :].split("/")
    return (parts[0],) if len(parts) > 1 and parts[0] else ()


def _scan_dir(config: EmulatorConfig, bucket: str, key: str) -> Scan:
    prefix = key if not key or key.endswith("/") else key + "/"
    client, found, listed = _client(config), Scan(), 0
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                listed += 1
                name, size = str(item["Key"]), int(item.get("Size", 0))
                if name.endswith("/"):
                    continue  # a folder marker
                _too_large(config, bucket, name, size)
                found.objects.append(ObsObject(bucket, name, size, _label_of(prefix, name), size > 0))
    except ApiError:
        raise
    except Exception as exc:
        raise _store_error(exc, f"obs://{bucket}/{prefix}", missing="ModelArts.4312") from None
    if not listed:
        raise ApiError("ModelArts.4312", f"nothing exists under obs://{bucket}/{prefix}")
    if not any(obj.valid for obj in found.objects):
        raise ApiError("ModelArts.4340", f"obs://{bucket}/{prefix} holds no file to import")
    found.objects.sort(key=lambda obj: obj.key)
    return found


def _manifest_line(line: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``(bucket, key, labels)`` of a manifest line (``{"source": "s3://...", "annotation": [{"name"}]}``)."""
    try:
        entry = json.loads(line)
        bucket, key = split_path(str(entry["source"]))
    except (ValueError, KeyError, TypeError, ApiError):
        return None
    notes = entry.get("annotation") if isinstance(entry, dict) else None
    names = tuple(str(a["name"]) for a in notes or () if isinstance(a, dict) and a.get("name"))
    return bucket, key, names


def _scan_manifest(config: EmulatorConfig, bucket: str, key: str) -> Scan:
    client, found = _client(config), Scan(manifest=True)
    try:
        text = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", errors="replace")
    except Exception as exc:
        raise _store_error(exc, f"manifest obs://{bucket}/{key}", missing="ModelArts.4312") from None
    for line in text.splitlines():
        if not line.strip():
            continue
        entry = _manifest_line(line)
        if entry is None:
            found.objects.append(ObsObject(bucket, key, 0, (), False))  # counted, never imported
            continue
        source_bucket, source_key, labels = entry
        try:
            size = int(client.head_object(Bucket=source_bucket, Key=source_key).get("ContentLength", 0))
        except Exception as exc:
            raise _store_error(
                exc, f"obs://{source_bucket}/{source_key} (named by the manifest)", missing="ModelArts.4374"
            ) from None
        _too_large(config, source_bucket, source_key, size)
        found.objects.append(ObsObject(source_bucket, source_key, size, labels, size > 0))
    if not any(obj.valid for obj in found.objects):
        raise ApiError("ModelArts.4340", f"manifest obs://{bucket}/{key} names no file to import")
    return found


def scan(config: EmulatorConfig, import_path: str, manifest: bool) -> Scan:
    """The objects an import of ``import_path`` takes in, or the OBS code of what the store said."""
    bucket, key = split_path(import_path)
    return _scan_manifest(config, bucket, key) if manifest else _scan_dir(config, bucket, key)


def read_object(config: EmulatorConfig, obj: ObsObject) -> bytes:
    """An object's bytes (what an import copies); 4374 when it can no longer be read, 4419 when too large."""
    try:
        body: bytes = _client(config).get_object(Bucket=obj.bucket, Key=obj.key)["Body"].read()
    except Exception as exc:
        raise _store_error(exc, f"obs://{obj.bucket}/{obj.key}", missing="ModelArts.4374") from None
    _too_large(config, obj.bucket, obj.key, len(body))
    return body
