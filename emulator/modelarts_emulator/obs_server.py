"""A local S3-compatible server for tests and scripts: moto's server mode on a free loopback port.

The emulator never starts one itself (``obs.py`` reads whatever ``--obs-endpoint`` names); this is what the
test fixtures (``s3_server``, ``obs_store`` in ``pytest_plugin.py``) start, and what a script may use::

    with S3Server() as s3:
        s3.client().create_bucket(Bucket="raw-images")
        emulator.admin.configure(**s3.emulator_settings())

moto is the emulator's optional ``s3`` extra (``modelarts-emulator[s3]``, which the provider's ``emulator``
extra installs): it is imported when a server starts, never by the emulator's own import tasks. Its
credentials are moto's placeholders (any key is accepted).
"""

from __future__ import annotations

import logging
import urllib.request
from types import TracebackType
from typing import Any

__all__ = ["S3Server", "s3_client"]

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client of the S3-compatible server at ``endpoint`` (moto's placeholder credentials, which
    any moto server takes; path-style addressing, as OBS endpoints take it)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}),
    )


class S3Server:
    """moto's S3-compatible server in a daemon thread on ``host`` and a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self._port = host, port
        self._server: Any = None
        self.endpoint = ""

    def start(self) -> S3Server:
        if self._server is None:
            from moto.server import ThreadedMotoServer

            # werkzeug logs every request of the server at INFO; a test's output keeps its warnings only.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            self._server = ThreadedMotoServer(ip_address=self.host, port=self._port, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every bucket and object (moto's own reset endpoint)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass

    def client(self) -> Any:
        """A boto3 S3 client of this server (:func:`s3_client`)."""
        return s3_client(self.endpoint)

    def emulator_settings(self) -> dict[str, Any]:
        """The emulator settings (``POST /_emulator/config``) that make its import tasks read this server."""
        return {
            "obs_endpoint": self.endpoint,
            "obs_access_key": ACCESS_KEY,
            "obs_secret_key": SECRET_KEY,
            "obs_region": REGION,
        }

    def connection_dict(self) -> dict[str, Any]:
        """An Airflow ``aws`` connection (JSON form) whose endpoint is this server (``ObjectStoragePath``)."""
        return {
            "conn_type": "aws",
            "login": ACCESS_KEY,
            "password": SECRET_KEY,
            "extra": {"endpoint_url": self.endpoint, "region_name": REGION},
        }
