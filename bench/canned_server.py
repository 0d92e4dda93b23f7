"""A minimal HTTP/1.1 server with canned answers: measures the client against a server that is not the limit.

Usage: ``python bench/canned_server.py [--port 0] [--url-file PATH] [--latency-ms 50]``
(``bench/_common.py``'s :class:`~_common.CannedServer` starts it in its own process, pinned to its own core).

Every ``POST`` or ``PUT`` to a path ending in ``/samples`` (add samples, update labels of a dataset or a team
task) is answered ``200`` after ``--latency-ms`` with the reply the emulator gives for a batch where every
item succeeded (``modelarts_emulator/samples.py``): ``{"success": true, "results": [...]}``, one entry per
sample of the request, ``{"success": true, "name": ..., "info": <sample id>}`` for an add and
``{"success": true}`` for an update, so the client reads and counts exactly what it reads from the emulator.
The body is parsed only to count its samples; replies are built once per count and cached. Anything else is
a 404 ``APIGW.0101``.

What it leaves out on purpose: signature checks, model validation, state. Connections are kept alive (the
client's pool reuses them), every connection is served by its own coroutine, so requests wait out their
latency concurrently and the server adds well under a millisecond of its own per request: the time the
client needs over ``batches x latency / concurrency`` is the client's.

Only the standard library (``asyncio`` streams), so it starts in ~50 ms and owes nothing to the emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import socket
from functools import lru_cache
from pathlib import Path

_NOT_FOUND = json.dumps({"error_code": "APIGW.0101", "error_msg": "The API does not exist"}).encode()


@lru_cache(maxsize=64)
def reply(kind: str, count: int) -> bytes:
    """The emulator's answer to a batch of ``count`` samples that all succeeded (``kind``: add / update)."""
    if kind == "add":
        results = [
            {
                "success": True,
                "name": f"canned-{i:06d}.jpg",
                "info": hashlib.md5(str(i).encode(), usedforsecurity=False).hexdigest(),
            }
            for i in range(count)
        ]
    else:
        results = [{"success": True} for _ in range(count)]
    return json.dumps({"success": True, "results": results}).encode()


def _head(status: str, body: bytes, keep_alive: bool) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    ).encode()


def answer(method: str, path: str, body: bytes) -> tuple[str, bytes]:
    """(status line, body) for one request."""
    if method in ("POST", "PUT") and path.split("?", 1)[0].rstrip("/").endswith("/samples"):
        try:
            count = len(json.loads(body).get("samples") or ())
        except (ValueError, AttributeError, TypeError):
            return "400 Bad Request", json.dumps(
                {"error_code": "ModelArts.0104", "error_msg": "Parameter error."}
            ).encode()
        return "200 OK", reply("add" if method == "POST" else "update", count)
    return "404 Not Found", _NOT_FOUND


class Server:
    def __init__(self, latency_ms: float) -> None:
        self.latency = latency_ms / 1000
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                length = 0
                keep_alive = True
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    lowered = name.strip().lower()
                    if lowered == "content-length":
                        length = int(value.strip())
                    elif lowered == "connection" and value.strip().lower() == "close":
                        keep_alive = False
                body = await reader.readexactly(length) if length else b""
                self.requests += 1
                if self.latency:
                    await asyncio.sleep(self.latency)
                status, payload = answer(method, path, body)
                writer.write(_head(status, payload, keep_alive) + payload)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


async def serve(host: str, port: int, latency_ms: float, url_file: Path | None) -> None:
    server = Server(latency_ms)
    listener = await asyncio.start_server(server.handle, host, port, backlog=256)
    bound_port = listener.sockets[0].getsockname()[1]
    url = f"http://{host}:{bound_port}"
    if url_file is not None:
        tmp = url_file.with_suffix(".tmp")
        tmp.write_text(url + "\n")
        os.replace(tmp, url_file)  # the reader never sees a half-written URL
    else:
        print(url, flush=True)
    async with listener:
        await listener.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--url-file", type=Path, default=None, help="write the base URL here once listening")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.latency_ms, args.url_file))


if __name__ == "__main__":
    main()
