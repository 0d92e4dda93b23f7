"""client/_base.py: endpoint resolution, project id, repr without secrets, shared TLS contexts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import certifi
import httpx
import pytest

from airflow_provider_modelarts.auth import AkSkAuth, IamTokenAuth
from airflow_provider_modelarts.client import (
    AsyncModelArtsClient,
    ModelArtsClient,
    resolve_endpoint,
)
from airflow_provider_modelarts.errors import (
    ModelArtsConfigError,
)
from unit.client._helpers import (
    BASE,
    IAM,
    IAM_PASSWORD,
    PROJECT,
    SECRET_KEY,
)


def test_resolve_endpoint() -> None:
    assert resolve_endpoint("cn-north-4", None) == "https://modelarts.cn-north-4.myhuaweicloud.com"
    assert resolve_endpoint("eu-de", None) == "https://modelarts.eu-de.otc.t-systems.com"
    assert resolve_endpoint("eu-nl", None) == "https://modelarts.eu-nl.otc.t-systems.com"
    assert resolve_endpoint("cn-north-4", "http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert resolve_endpoint(None, "modelarts.internal:8443") == "https://modelarts.internal:8443"
    with pytest.raises(ModelArtsConfigError, match="region or an endpoint"):
        resolve_endpoint(None, None)
    with pytest.raises(ModelArtsConfigError, match="region"):
        resolve_endpoint("evil.com/x?", None)
    with pytest.raises(ModelArtsConfigError, match="http"):
        resolve_endpoint(None, "ftp://host")


def test_client_requires_project_id() -> None:
    with pytest.raises(ModelArtsConfigError, match="project_id"):
        ModelArtsClient(project_id="", endpoint=BASE)


def test_repr_shows_project_and_endpoint_but_no_secrets() -> None:
    auth = AkSkAuth("AKEXAMPLE", SECRET_KEY, security_token="security-token-secret")
    with ModelArtsClient(project_id=PROJECT, region="cn-north-4", auth=auth) as c:
        text = repr(c)
    assert (
        text
        == "ModelArtsClient(project_id='proj-1', base_url='https://modelarts.cn-north-4.myhuaweicloud.com')"
    )
    iam = IamTokenAuth(IAM, "user", IAM_PASSWORD, "domain", project_id=PROJECT)
    async_client = AsyncModelArtsClient(project_id=PROJECT, endpoint=BASE, auth=iam)
    assert SECRET_KEY not in text and "security-token-secret" not in text
    assert IAM_PASSWORD not in repr(async_client)
    assert repr(async_client).startswith("AsyncModelArtsClient(project_id='proj-1'")
    asyncio.run(async_client.aclose())


def test_verify_accepts_ca_bundle_path_and_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelArtsConfigError, match="CA bundle"):
        ModelArtsClient(project_id=PROJECT, endpoint=BASE, verify=str(tmp_path / "missing.pem"))
    with ModelArtsClient(project_id=PROJECT, endpoint=BASE, verify=certifi.where()) as c:
        assert c.base_url == BASE


def test_tls_context_is_built_once_and_shared_between_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle costs ~45 ms; a triggerer builds a client per trigger: it must not repeat."""
    import airflow_provider_modelarts.client._base as client_module

    calls: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real()

    monkeypatch.setattr(client_module.httpx, "create_ssl_context", counting)
    client_module._shared_ssl_context.cache_clear()
    try:
        clients = [ModelArtsClient(project_id="p", region="cn-north-4") for _ in range(3)]
        clients += [AsyncModelArtsClient(project_id="p", region="cn-north-4") for _ in range(3)]
        assert len(calls) == 1
        for c in clients[:3]:
            c.close()
    finally:
        client_module._shared_ssl_context.cache_clear()
