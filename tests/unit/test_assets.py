"""The ``modelarts://`` Asset URI rules: what is accepted, what is refused (naming the part), what is
normalised, and that Airflow applies them through the provider's ``asset-uris`` registration."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from airflow.sdk import Asset

from airflow_provider_modelarts import get_provider_info
from airflow_provider_modelarts.assets import (
    AssetUriError,
    ModelArtsAssetRef,
    asset_uri,
    create_asset,
    endpoint_host,
    modelarts_asset,
    parse_uri,
    sanitize_uri,
)
from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

HOST = "modelarts.cn-north-4.myhuaweicloud.com"


def test_a_dataset_and_a_team_task_have_the_api_paths_under_the_endpoint_host() -> None:
    assert asset_uri(HOST, "p1", "d1") == f"modelarts://{HOST}/p1/datasets/d1"
    assert asset_uri(HOST, "p1", "d1", "t1") == f"modelarts://{HOST}/p1/datasets/d1/workforce-tasks/t1"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("ModelArts.CN-North-4.MyHuaweiCloud.com", HOST),  # host names are case-insensitive
        (f"{HOST}:443", HOST),  # the https default port is no different host
        ("127.0.0.1:8080", "127.0.0.1:8080"),  # an emulator's or private cloud's port is kept
    ],
)
def test_the_host_is_normalised(host: str, expected: str) -> None:
    assert asset_uri(host, "p1", "d1") == f"modelarts://{expected}/p1/datasets/d1"


def test_ids_are_percent_encoded_and_read_back() -> None:
    uri = asset_uri(HOST, "p 1", "d/1", "t#1")
    assert uri == f"modelarts://{HOST}/p%201/datasets/d%2F1/workforce-tasks/t%231"
    assert parse_uri(uri) == ModelArtsAssetRef(HOST, "p 1", "d/1", "t#1")


def test_parse_uri_names_the_parts_and_builds_them_back() -> None:
    ref = parse_uri(f"modelarts://{HOST}/p1/datasets/d1/workforce-tasks/t1")
    assert (ref.host, ref.project_id, ref.dataset_id, ref.workforce_task_id) == (HOST, "p1", "d1", "t1")
    assert ref.uri == f"modelarts://{HOST}/p1/datasets/d1/workforce-tasks/t1"
    assert ref.dataset_uri == f"modelarts://{HOST}/p1/datasets/d1"
    assert parse_uri(f"modelarts://{HOST}/p1/datasets/d1").workforce_task_id is None


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("modelarts:///p1/datasets/d1", "needs the endpoint host"),
        (f"modelarts://{HOST}/p1/datasets", "path must be /<project_id>/datasets/<dataset_id>"),
        (f"modelarts://{HOST}/p1/dataset/d1", "path must be"),
        (f"modelarts://{HOST}/p1/datasets/d1/workforce-tasks", "path must be"),
        (f"modelarts://{HOST}/p1/datasets/d1/tasks/t1", "path must be"),
        (f"modelarts://{HOST}/p1/datasets/d1/workforce-tasks/t1/x", "path must be"),
        (f"modelarts://{HOST}//datasets/d1", "empty project_id"),
        (f"modelarts://{HOST}/p1/datasets/%20", "empty dataset_id"),
        (f"modelarts://{HOST}/p1/datasets/d1?version=1", "no query string"),
        (f"modelarts://user@{HOST}/p1/datasets/d1", "no credentials"),
        (f"modelarts://{HOST}:port/p1/datasets/d1", "invalid port"),
        (f"s3://{HOST}/p1/datasets/d1", "not a modelarts:// URI"),
    ],
)
def test_a_uri_that_names_no_dataset_is_refused_naming_what_is_wrong(uri: str, message: str) -> None:
    with pytest.raises(AssetUriError, match=message) as caught:
        sanitize_uri(urlsplit(uri))
    assert isinstance(caught.value, ModelArtsError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "", "project_id": "p1", "dataset_id": "d1"}, "host must be a non-empty string"),
        ({"host": HOST, "project_id": " ", "dataset_id": "d1"}, "project_id must be a non-empty string"),
        ({"host": HOST, "project_id": "p1", "dataset_id": None}, "dataset_id must be a non-empty string"),
        (
            {"host": HOST, "project_id": "p1", "dataset_id": "d1", "workforce_task_id": ""},
            "workforce_task_id",
        ),
    ],
)
def test_building_a_uri_refuses_empty_parts_by_name(kwargs: dict, message: str) -> None:
    with pytest.raises(AssetUriError, match=message):
        asset_uri(**kwargs)


def test_the_handler_is_registered_and_airflow_applies_it() -> None:
    (entry,) = get_provider_info()["asset-uris"]
    assert entry["schemes"] == ["modelarts"]
    assert entry["handler"] == "airflow_provider_modelarts.assets.sanitize_uri"
    # Airflow normalises through our handler: host case, :443 and the trailing slash.
    asset = Asset("modelarts://ModelArts.CN-North-4.MyHuaweiCloud.com:443/p1/datasets/d1/")
    assert asset.uri == f"modelarts://{HOST}/p1/datasets/d1"
    with pytest.raises(ValueError, match="path must be"):
        Asset(f"modelarts://{HOST}/p1/models/m1")


def test_the_factory_builds_an_asset_with_extra() -> None:
    asset = create_asset(host=HOST, project_id="p1", dataset_id="d1", workforce_task_id="t1", extra={"a": 1})
    assert isinstance(asset, Asset)
    assert asset.uri == f"modelarts://{HOST}/p1/datasets/d1/workforce-tasks/t1"
    assert asset.extra == {"a": 1}


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        (f"https://{HOST}", HOST),
        (f"https://{HOST}:443/", HOST),
        ("http://127.0.0.1:41234", "127.0.0.1:41234"),
        ("modelarts.eu-de.otc.t-systems.com", "modelarts.eu-de.otc.t-systems.com"),
    ],
)
def test_endpoint_host(endpoint: str, host: str) -> None:
    assert endpoint_host(endpoint) == host


def test_modelarts_asset_from_a_region_or_endpoint_looks_nothing_up() -> None:
    assert (
        modelarts_asset("d1", project_id="p1", region="cn-north-4").uri
        == f"modelarts://{HOST}/p1/datasets/d1"
    )
    otc = modelarts_asset("d1", project_id="p1", region="eu-de", workforce_task_id="t1")
    assert otc.uri == "modelarts://modelarts.eu-de.otc.t-systems.com/p1/datasets/d1/workforce-tasks/t1"
    local = modelarts_asset("d1", project_id="p1", endpoint="http://127.0.0.1:9000")
    assert local.uri == "modelarts://127.0.0.1:9000/p1/datasets/d1"
    with pytest.raises(AssetUriError, match="project_id must be a non-empty string"):
        modelarts_asset("d1", project_id="", region="cn-north-4")


def test_the_hook_names_its_connections_dataset_as_modelarts_asset_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = {"conn_type": "modelarts", "login": "AK", "password": "SK"}
    conn["extra"] = {"project_id": "p9", "region": "cn-north-4"}  # type: ignore[assignment]
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_ASSETS", json.dumps(conn))
    hook = ModelArtsHook("modelarts_assets")
    assert hook.asset_uri("d1") == modelarts_asset("d1", project_id="p9", region="cn-north-4").uri
    assert hook.asset_uri("d1", "t1") == f"modelarts://{HOST}/p9/datasets/d1/workforce-tasks/t1"


def test_every_registered_asset_uri_callable_imports() -> None:
    """Airflow imports these lazily, by dotted path; a typo would only show when an asset is first used."""
    import importlib

    (entry,) = get_provider_info()["asset-uris"]
    for key in ("handler", "factory", "to_openlineage_converter"):
        module, _, name = entry[key].rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), entry[key]
