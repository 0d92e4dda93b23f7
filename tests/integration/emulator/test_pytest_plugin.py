"""The pytest plugin's fixtures: a live server, reset per test, and the Airflow connection env var."""

from __future__ import annotations

import json
import os

import httpx

from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID
from modelarts_emulator.obs_server import S3Server
from modelarts_emulator.testing import EmulatorServer


def test_emulator_fixture_serves_real_http_and_starts_from_the_default_seed(emulator: EmulatorServer) -> None:
    response = httpx.get(f"{emulator.base_url}/_emulator/datasets")
    assert response.status_code == 200
    assert {d["dataset_id"] for d in response.json()} == {"ds-images", "ds-objects", "ds-text"}
    emulator.admin.seed({"datasets": [{"dataset_id": "ds-extra"}]})
    assert len(emulator.admin.call("GET", "datasets")) == 4


def test_emulator_fixture_resets_between_tests(emulator: EmulatorServer) -> None:
    # The previous test seeded ds-extra; the fixture must have removed it.
    assert "ds-extra" not in {d["dataset_id"] for d in emulator.admin.call("GET", "datasets")}
    assert emulator.admin.stats()["total"] == 0


def test_modelarts_conn_env_points_airflow_at_the_emulator(
    modelarts_conn_env: dict, emulator: EmulatorServer
) -> None:
    connection = json.loads(os.environ["AIRFLOW_CONN_MODELARTS_DEFAULT"])
    assert connection == modelarts_conn_env
    assert connection["login"] == DEFAULT_ACCESS_KEY
    assert connection["extra"]["endpoint"] == emulator.base_url
    assert connection["extra"]["project_id"] == DEFAULT_PROJECT_ID
    with emulator.client() as client:
        assert client.list_datasets(limit=1)["total_number"] == 3


def test_openapi_page_describes_the_modelarts_endpoints_with_model_schemas(emulator: EmulatorServer) -> None:
    document = httpx.get(f"{emulator.base_url}/openapi.json").json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {
        "add_samples",
        "update_samples",
        "list_samples",
        "update_workforce_task_samples",
        "list_workforce_task_samples",
        "update_acceptance_status",
        "start_acceptance",
        "get_acceptance_report",
        "get_workforce_task",
        "list_datasets",
        "iam_token",
        "create_import_task",
        "list_import_tasks",
        "get_import_task",
    } <= operations
    add = document["paths"]["/v2/{project_id}/datasets/{dataset_id}/data-annotations/samples"]["post"]
    ref = add["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/UploadSamplesRequest"
    assert "Sample" in document["components"]["schemas"]


def test_obs_store_is_an_empty_s3_server_the_emulator_reads(
    obs_store: S3Server, emulator: EmulatorServer
) -> None:
    client = obs_store.client()
    assert client.list_buckets()["Buckets"] == []  # emptied for the test
    client.create_bucket(Bucket="left-behind")
    assert emulator.admin.configure()["obs_endpoint"] == obs_store.endpoint
    assert obs_store.endpoint.startswith("http://127.0.0.1:")


def test_obs_store_starts_each_test_empty(obs_store: S3Server) -> None:
    assert obs_store.client().list_buckets()["Buckets"] == []
