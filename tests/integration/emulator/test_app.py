"""The emulator's request pipeline (app.py): a project that is not the emulator's own is refused as ModelArts
refuses a project the credentials do not belong to, and the connection test reports it."""

from __future__ import annotations

import json

import httpx
import pytest

from airflow_provider_modelarts.auth import AkSkAuth
from airflow_provider_modelarts.client import ModelArtsClient
from airflow_provider_modelarts.errors import ModelArtsAuthError
from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY
from modelarts_emulator.testing import EmulatorServer

WRONG = "0123456789abcdef0123456789abcdef"


def test_a_foreign_project_is_refused_with_403_modelarts_0210(emulator: EmulatorServer) -> None:
    auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=WRONG)
    client = ModelArtsClient(project_id=WRONG, endpoint=emulator.base_url, auth=auth)
    with client, pytest.raises(ModelArtsAuthError) as refused:
        client.list_datasets()
    assert refused.value.status == 403
    assert refused.value.error_code == "ModelArts.0210"
    assert WRONG in str(refused.value) and DEFAULT_PROJECT_ID in str(refused.value)
    assert emulator.admin.stats()["routes"]["list_datasets"]["refused"] == 1


def test_a_foreign_project_over_raw_http_changes_nothing(emulator: EmulatorServer) -> None:
    url = f"{emulator.base_url}/v2/{WRONG}/datasets/ds-images/data-annotations/samples"
    answer = httpx.post(
        url,
        json={"samples": [{"name": "foreign.jpg", "data": "aGVsbG8="}]},
        auth=AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=WRONG),
    )
    assert answer.status_code == 403
    assert answer.json()["error_code"] == "ModelArts.0210"
    assert "foreign.jpg" not in [s["sample_name"] for s in emulator.admin.samples("ds-images")]


def test_bad_credentials_are_reported_before_the_project(emulator: EmulatorServer) -> None:
    answer = httpx.get(
        f"{emulator.base_url}/v2/{WRONG}/datasets", auth=AkSkAuth(DEFAULT_ACCESS_KEY, "not-the-secret-key")
    )
    assert (answer.status_code, answer.json()["error_code"]) == (401, "APIGW.0301")


@pytest.mark.parametrize("auth", ["aksk", "password"])
def test_connection_test_reports_a_wrong_project(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, auth: str
) -> None:
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

    connection = emulator.connection_dict(auth, project_id=WRONG)
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(connection))
    ok, message = ModelArtsHook().test_connection()
    assert ok is False
    # AK/SK: the API refuses the project (403 ModelArts.0210); password: IAM refuses to scope a token to it.
    assert ("ModelArts.0210" if auth == "aksk" else "APIGW.0301") in message
    assert "project" in message and WRONG in message

    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", emulator.connection_json(auth))
    ok, message = ModelArtsHook().test_connection()
    assert ok is True, message
