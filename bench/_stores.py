"""For the import benchmark: :class:`S3Store` (an S3-compatible server, moto's S3 backend, in its own
process, filled with :func:`image_bytes`) and :class:`ByteCounter` (a relay that counts a process's network
bytes). ``python bench/_stores.py --s3-server`` is the store's process.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from _common import ServerProcess

# ------------------------------------------------------------------------------ an S3-compatible store

#: The S3 credentials of the store (moto accepts any; these are moto's placeholders, as the tests use).
S3_ACCESS_KEY = S3_SECRET_KEY = "testing"
S3_REGION = "us-east-1"


def image_bytes(prefix: str, count: int, size: int) -> Iterator[tuple[str, bytes]]:
    """``(key, bytes)`` of ``count`` images of ``size`` unique random bytes under ``prefix``; the same every
    time (seeded by the prefix), so the store's filler and the manifest writer make the very same images."""
    rng = random.Random(prefix)
    for i in range(count):
        yield f"{prefix}{i:07d}.jpg", rng.randbytes(size)


class S3Store(ServerProcess):
    """An S3-compatible server in its own process (on the client core(s) when there are two, so that it does
    not share the emulator's core, whose import tasks read it while the measured worker sleeps): moto's S3
    backend, its own Flask app (``moto.moto_server.werkzeug_app.create_backend_app("s3")``, the app moto's
    server mode dispatches S3 requests to) served by werkzeug's threaded server, started and stopped as the
    emulator is (a ``_common.ServerProcess`` with this file as its command: :func:`serve_s3`).

    Why not ``moto_server`` itself: its dispatcher works out the service of every request first, which
    measured 40 % of each request's cost here (4.8 against 2.8 ms a GET); only S3 is served, so the S3 app
    is served directly. ``fill`` puts generated objects (:func:`image_bytes`) into the bucket inside the
    server process, through moto's S3 backend (``put_object``), at ~30 µs an object: 100,000 PUT requests
    cost ~1.8 ms of server CPU each (3 minutes). Everything else, reads included, is the S3 API.
    """

    def __init__(self, workdir: Path) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--s3-server"]
        super().__init__(workdir, "s3", command=command, client_cores=True)

    def client(self) -> Any:
        """A boto3 S3 client of this store (the emulator's ``obs_server.s3_client``; imported here, not at the
        top: the measured workers import this module and must not load the emulator)."""
        from modelarts_emulator.obs_server import s3_client

        return s3_client(self.base_url)

    def fill(self, bucket: str, prefix: str, count: int, size: int) -> float:
        """Put ``image_bytes(prefix, count, size)`` into ``bucket`` (which must exist); server seconds."""
        query: dict[str, str | int] = {"bucket": bucket, "prefix": prefix, "count": count, "size": size}
        response = httpx.post(f"{self.base_url}/_bench/fill", params=query, timeout=600)
        response.raise_for_status()
        return float(response.json()["seconds"])

    def emulator_args(self) -> tuple[str, ...]:
        """The emulator's command-line options that make its import tasks read this store."""
        return ("--obs-endpoint", self.base_url, "--obs-access-key", S3_ACCESS_KEY)

    def connection(self) -> dict[str, Any]:
        """An Airflow ``aws`` connection (JSON form) of this store (``ObjectStoragePath``'s ``conn_id``)."""
        return {
            "conn_type": "aws",
            "login": S3_ACCESS_KEY,
            "password": S3_SECRET_KEY,
            "extra": {"endpoint_url": self.base_url, "region_name": S3_REGION},
        }


def serve_s3(argv: list[str]) -> None:
    """The :class:`S3Store` process: ``--host``, ``--port`` and ``--url-file`` as ``EmulatorProcess`` gives
    them; the URL is written (aside, then renamed) once the socket listens."""
    import argparse
    import logging
    import urllib.parse

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.moto_server.werkzeug_app import create_backend_app
    from moto.s3.models import s3_backends
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--url-file", required=True)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    app = create_backend_app("s3")

    def fill(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        started = time.perf_counter()
        for key, data in image_bytes(query["prefix"], int(query["count"]), int(query["size"])):
            backend.put_object(query["bucket"], key, data)
        body = json.dumps({"seconds": time.perf_counter() - started}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == "/_bench/fill" and environ.get("REQUEST_METHOD") == "POST":
            return fill(environ, start_response)
        return app(environ, start_response)

    server = make_server(args.host, args.port, dispatch, threaded=True)
    url_file = Path(args.url_file)
    aside = url_file.with_suffix(".tmp")
    aside.write_text(f"http://{args.host}:{server.server_port}")
    aside.replace(url_file)
    server.serve_forever()


class ByteCounter:
    """A TCP relay in a thread of this process that counts the bytes each way: give a measured process
    :attr:`url` instead of the server's and :attr:`sent` / :attr:`received` are what it sent to and
    received from that server, headers and bodies (``reset`` between runs). Bytes are relayed as they come,
    so the figures are the network's, whatever the client's library or protocol details."""

    def __init__(self, target_url: str) -> None:
        target = httpx.URL(target_url)
        self._target = (target.host, target.port or 80)
        self._scheme = target.scheme
        self.sent = self.received = 0
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def reset(self) -> None:
        self.sent = self.received = 0

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        server = self._loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        self.url = f"{self._scheme}://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        await asyncio.gather(self._pump(reader, up_writer, True), self._pump(up_reader, writer, False))

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, sent: bool) -> None:
        try:
            while data := await src.read(1 << 16):
                if sent:
                    self.sent += len(data)
                else:
                    self.received += len(data)
                dst.write(data)
                await dst.drain()
        except OSError:
            pass
        finally:
            dst.close()

    def __enter__(self) -> ByteCounter:
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


if __name__ == "__main__" and sys.argv[1:2] == ["--s3-server"]:
    serve_s3(sys.argv[2:])
