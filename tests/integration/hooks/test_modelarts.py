"""ModelArtsHook against the emulator over real HTTP: real signature verification and IAM tokens."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook


def set_conn(monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(conn))


@pytest.mark.parametrize("auth", ["aksk", "password"])
def test_test_connection_against_the_emulator(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, auth: str
) -> None:
    set_conn(monkeypatch, emulator.connection_dict(auth))

    ok, message = ModelArtsHook().test_connection()

    assert (ok, message) == (
        True,
        f"Connection to ModelArts project {emulator.project_id} at {emulator.base_url} succeeded.",
    )


def test_wrong_secret_key_is_rejected_by_the_emulator(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong_sk = "not-the-emulator-secret-key-1b7e"
    set_conn(monkeypatch, emulator.connection_dict("aksk", secret_key=wrong_sk))

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "HTTP 401" in message and "APIGW.0301" in message
    assert wrong_sk not in message


def test_clock_skew_is_reported_as_such(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, emulator.connection_dict("aksk"))
    emulator.admin.clock(20 * 60)  # the server's clock runs 20 minutes ahead of ours

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "X-Sdk-Date is 21 minutes off the server clock" in message or "20 minutes off" in message


def test_async_client_with_iam_password_against_the_emulator(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(monkeypatch, emulator.connection_dict("password"))

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with await ModelArtsHook().get_async_client() as client:
            return await client.list_datasets(limit=5), await client.list_datasets(limit=5)

    first, second = asyncio.run(run())
    assert first == second
    assert first["total_number"] >= 1  # the default seed has datasets
