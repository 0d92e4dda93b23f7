"""The emulator authenticates as the service does: AK/SK signatures, security tokens, IAM tokens."""

from __future__ import annotations

import asyncio
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_modelarts.auth import AkSkAuth, IamTokenAuth
from airflow_provider_modelarts.auth.signing import sign
from modelarts_emulator import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_PROJECT_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    EmulatorState,
    create_app,
)
from modelarts_emulator.testing import EmulatorServer

DATASETS = f"/v2/{DEFAULT_PROJECT_ID}/datasets"
SAMPLES = f"{DATASETS}/ds-images/data-annotations/samples"


def _signed(
    emulator: EmulatorServer,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    secret_key: str = DEFAULT_SECRET_KEY,
    access_key: str = DEFAULT_ACCESS_KEY,
    headers: dict[str, str] | None = None,
) -> httpx.Request:
    request = httpx.Request(
        method,
        emulator.base_url + path,
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    AkSkAuth(access_key, secret_key, project_id=DEFAULT_PROJECT_ID).sign_request(request)
    return request


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error_code"], body["error_msg"]


def test_a_correctly_signed_request_is_accepted(emulator: EmulatorServer) -> None:
    body = json.dumps({"samples": [{"name": "signed.jpg"}]}).encode()
    with httpx.Client() as http:
        response = http.send(_signed(emulator, "POST", SAMPLES, body))
    assert response.status_code == 200
    assert response.json()["success"] is True


def test_a_wrong_secret_key_is_refused_with_apigw_0301(emulator: EmulatorServer) -> None:
    with httpx.Client() as http:
        response = http.send(_signed(emulator, "GET", DATASETS, secret_key="not-the-secret"))
    status, code, message = _error(response)
    assert (status, code) == (401, "APIGW.0301")
    assert "signature does not match" in message


def test_an_unknown_access_key_is_refused(emulator: EmulatorServer) -> None:
    with httpx.Client() as http:
        response = http.send(_signed(emulator, "GET", DATASETS, access_key="AKUNKNOWN"))
    status, code, message = _error(response)
    assert (status, code) == (401, "APIGW.0301")
    assert "unknown access key" in message


def test_a_body_changed_after_signing_is_refused(emulator: EmulatorServer) -> None:
    signed = _signed(emulator, "POST", SAMPLES, b'{"samples": [{"name": "a.jpg"}]}')
    tampered = httpx.Request(
        "POST", signed.url, headers=signed.headers, content=b'{"samples": [{"name": "b.jpg"}]}'
    )
    with httpx.Client() as http:
        response = http.send(tampered)
    assert _error(response)[:2] == (401, "APIGW.0301")
    assert not any(s["sample_name"] == "b.jpg" for s in emulator.admin.samples("ds-images"))


def test_a_path_changed_after_signing_is_refused(emulator: EmulatorServer) -> None:
    signed = _signed(emulator, "GET", f"{DATASETS}/ds-images/data-annotations/samples")
    moved = httpx.Request(
        "GET", emulator.base_url + f"{DATASETS}/ds-text/data-annotations/samples", headers=signed.headers
    )
    with httpx.Client() as http:
        response = http.send(moved)
    assert _error(response)[:2] == (401, "APIGW.0301")


def test_a_query_changed_after_signing_is_refused(emulator: EmulatorServer) -> None:
    signed = _signed(emulator, "GET", DATASETS + "?limit=1")
    changed = httpx.Request("GET", emulator.base_url + DATASETS + "?limit=2", headers=signed.headers)
    with httpx.Client() as http:
        assert http.send(changed).status_code == 401
        assert http.send(_signed(emulator, "GET", DATASETS + "?limit=1")).status_code == 200


def test_a_stale_date_is_refused_and_the_message_names_the_skew(emulator: EmulatorServer) -> None:
    with httpx.Client() as http:
        stale = _signed(emulator, "GET", DATASETS, headers={"X-Sdk-Date": "20200101T000000Z"})
        status, code, message = _error(http.send(stale))
        assert (status, code) == (401, "APIGW.0301")
        assert "minutes off the server clock" in message
        # 14 minutes of emulator clock skew is tolerated, 16 minutes is not.
        emulator.admin.clock(14 * 60)
        assert http.send(_signed(emulator, "GET", DATASETS)).status_code == 200
        emulator.admin.clock(16 * 60)
        assert _error(http.send(_signed(emulator, "GET", DATASETS)))[:2] == (401, "APIGW.0301")


def test_requests_without_credentials_are_refused(emulator: EmulatorServer) -> None:
    response = httpx.get(emulator.base_url + DATASETS)
    status, code, message = _error(response)
    assert (status, code) == (401, "APIGW.0301")
    assert "X-Auth-Token" in message and "Authorization" in message
    assert emulator.admin.stats()["refused"] == 1


def test_require_auth_off_accepts_anonymous_requests() -> None:
    async def call(app: object) -> int:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            return (await http.get(DATASETS)).status_code

    assert asyncio.run(call(create_app(config=EmulatorConfig(require_auth=False)))) == 200
    assert asyncio.run(call(create_app(config=EmulatorConfig(require_auth=True)))) == 401


def test_security_tokens_are_checked_when_the_config_lists_them() -> None:
    config = EmulatorConfig(security_tokens={"temporary-token-1"})
    state = EmulatorState(config)
    with EmulatorServer(state=state) as server, httpx.Client() as http:
        good = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, security_token="temporary-token-1")
        bad = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, security_token="stolen-token")
        assert http.get(server.base_url + DATASETS, auth=good).status_code == 200
        response = http.get(server.base_url + DATASETS, auth=bad)
        status, code, message = _error(response)
        assert (status, code) == (401, "APIGW.0301")
        assert "X-Security-Token" in message


def test_any_signed_security_token_is_accepted_by_default(emulator: EmulatorServer) -> None:
    auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, security_token="whatever-sts-token")
    assert httpx.get(emulator.base_url + DATASETS, auth=auth).status_code == 200


def _token(
    emulator: EmulatorServer, password: str = DEFAULT_IAM_PASSWORD, project: dict | None = None
) -> httpx.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": DEFAULT_IAM_USER,
                        "password": password,
                        "domain": {"name": DEFAULT_DOMAIN},
                    }
                },
            },
            "scope": {"project": project or {"id": DEFAULT_PROJECT_ID}},
        }
    }
    return httpx.post(emulator.iam_url + "/v3/auth/tokens", json=body)


def test_iam_password_login_returns_a_token_in_x_subject_token(emulator: EmulatorServer) -> None:
    response = _token(emulator, project={"name": "cn-north-4"})
    assert response.status_code == 201
    token = response.headers["X-Subject-Token"]
    assert response.json()["token"]["expires_at"].endswith("Z")
    assert response.json()["token"]["methods"] == ["password"]
    assert httpx.get(emulator.base_url + DATASETS, headers={"X-Auth-Token": token}).status_code == 200


def test_a_wrong_password_or_project_gets_no_token(emulator: EmulatorServer) -> None:
    status, code, message = _error(_token(emulator, password="wrong"))
    assert (status, code) == (401, "APIGW.0301")
    assert "password" in message
    assert "wrong" not in json.dumps(emulator.admin.call("GET", "tokens"))
    assert _token(emulator, project={"id": "another-project"}).status_code == 401


def test_unknown_expired_and_invalidated_tokens_are_refused(emulator: EmulatorServer) -> None:
    assert _error(httpx.get(emulator.base_url + DATASETS, headers={"X-Auth-Token": "forged"}))[:2] == (
        401,
        "ModelArts.4201",
    )
    emulator.admin.configure(token_ttl=60)
    token = _token(emulator).headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token}
    assert httpx.get(emulator.base_url + DATASETS, headers=headers).status_code == 200
    emulator.admin.advance(seconds=61)
    assert _error(httpx.get(emulator.base_url + DATASETS, headers=headers))[:2] == (401, "ModelArts.4127")

    fresh = _token(emulator).headers["X-Subject-Token"]
    assert emulator.admin.expire_tokens() >= 2
    assert _error(httpx.get(emulator.base_url + DATASETS, headers={"X-Auth-Token": fresh}))[:2] == (
        401,
        "ModelArts.4127",
    )


def test_the_iam_client_fetches_a_new_token_once_after_invalidation(emulator: EmulatorServer) -> None:
    auth = IamTokenAuth(
        emulator.iam_url,
        DEFAULT_IAM_USER,
        DEFAULT_IAM_PASSWORD,
        DEFAULT_DOMAIN,
        project_id=DEFAULT_PROJECT_ID,
    )
    with emulator.client(auth) as client:
        assert client.list_datasets(limit=1)["total_number"] == 3
        emulator.admin.expire_tokens()
        assert client.list_datasets(limit=1)["total_number"] == 3
    assert auth.token_fetches == 2


def test_signature_check_uses_the_raw_path_as_sent(emulator: EmulatorServer) -> None:
    # An id that needs percent-encoding: the emulator must verify against the path bytes on the wire.
    path = f"{DATASETS}/ds%20images/data-annotations/samples"
    url = httpx.URL(emulator.base_url + path)
    headers = {
        "Host": url.netloc.decode(),
        "X-Sdk-Date": "20260101T000000Z",
        "Content-Type": "application/json",
    }
    headers["X-Sdk-Date"] = (
        __import__("datetime").datetime.now(__import__("datetime").timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    )
    headers["Authorization"] = sign("GET", url, headers, b"", DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
    response = httpx.get(url, headers=headers)
    assert response.status_code == 400  # authenticated, then: no such dataset (the error table's status)
    assert response.json()["error_code"] == "ModelArts.4352"


# -- key rotation through the admin API (issue 25 item 5: the integration tier rotates keys) ---------------

ROTATED_SECRET = "emulator-rotated-secret-key-0001"
ACCESS_KEYS = "access-keys"


def _status(emulator: EmulatorServer, **signing: str) -> tuple[int, str | None]:
    with httpx.Client() as http:
        response = http.send(_signed(emulator, "GET", DATASETS, **signing))
    return response.status_code, (response.json().get("error_code") if response.status_code >= 400 else None)


def _admin(emulator: EmulatorServer, method: str, path: str, payload: object = None) -> httpx.Response:
    with httpx.Client(base_url=emulator.base_url) as http:
        return http.request(method, f"/_emulator/{path}", json=payload)


def test_rotating_a_secret_key_refuses_the_old_one_from_then_on(emulator: EmulatorServer) -> None:
    assert _status(emulator) == (200, None)
    answer = _admin(emulator, "PUT", f"{ACCESS_KEYS}/{DEFAULT_ACCESS_KEY}", {"secret_key": ROTATED_SECRET})
    assert answer.status_code == 200
    assert answer.json() == {"access_keys": [DEFAULT_ACCESS_KEY], "replaced": True}
    assert ROTATED_SECRET not in answer.text and DEFAULT_SECRET_KEY not in answer.text
    assert _status(emulator) == (401, "APIGW.0301")
    assert _status(emulator, secret_key=ROTATED_SECRET) == (200, None)
    listed = _admin(emulator, "GET", ACCESS_KEYS)
    assert listed.json() == {"access_keys": [DEFAULT_ACCESS_KEY]} and ROTATED_SECRET not in listed.text
    emulator.admin.reset()  # a reset goes back to the startup keys
    assert _status(emulator) == (200, None)
    assert _status(emulator, secret_key=ROTATED_SECRET) == (401, "APIGW.0301")


def test_a_new_access_key_can_replace_the_old_one_which_is_then_unknown(emulator: EmulatorServer) -> None:
    added = _admin(emulator, "PUT", f"{ACCESS_KEYS}/NEWAK0000000000002", {"secret_key": ROTATED_SECRET})
    assert added.json() == {
        "access_keys": sorted([DEFAULT_ACCESS_KEY, "NEWAK0000000000002"]),
        "replaced": False,
    }
    assert _status(emulator, access_key="NEWAK0000000000002", secret_key=ROTATED_SECRET) == (200, None)
    assert _status(emulator) == (200, None)  # both work while both are listed
    removed = _admin(emulator, "DELETE", f"{ACCESS_KEYS}/{DEFAULT_ACCESS_KEY}")
    assert removed.json() == {"access_keys": ["NEWAK0000000000002"]}
    with httpx.Client() as http:
        response = http.send(_signed(emulator, "GET", DATASETS))
    assert _error(response)[:2] == (401, "APIGW.0301") and "unknown access key" in _error(response)[2]
    assert _admin(emulator, "DELETE", f"{ACCESS_KEYS}/{DEFAULT_ACCESS_KEY}").status_code == 404


def test_access_key_changes_are_checked_before_anything_changes(emulator: EmulatorServer) -> None:
    bad = [
        ("PUT", f"{ACCESS_KEYS}/{DEFAULT_ACCESS_KEY}", {}),
        ("PUT", f"{ACCESS_KEYS}/{DEFAULT_ACCESS_KEY}", {"secret_key": ""}),
        ("PUT", f"{ACCESS_KEYS}/{DEFAULT_ACCESS_KEY}", {"secret_key": 42}),
        ("PUT", f"{ACCESS_KEYS}/{DEFAULT_ACCESS_KEY}", ["not", "an", "object"]),
        ("PUT", f"{ACCESS_KEYS}/AK%20WITH%20SPACE", {"secret_key": ROTATED_SECRET}),
        ("PUT", f"{ACCESS_KEYS}/AK,COMMA", {"secret_key": ROTATED_SECRET}),
        ("PUT", f"{ACCESS_KEYS}/AK=EQUALS", {"secret_key": ROTATED_SECRET}),
    ]
    for method, path, payload in bad:
        response = _admin(emulator, method, path, payload)
        assert response.status_code == 400, (path, payload, response.text)
        assert response.json()["error_code"] == "EMULATOR.0400"
    assert _admin(emulator, "GET", ACCESS_KEYS).json() == {"access_keys": [DEFAULT_ACCESS_KEY]}
    assert _status(emulator) == (200, None)


KEYS = ["ROTAK0000000000001", "ROTAK0000000000002"]
SECRETS = ["rotation-secret-one", "rotation-secret-two", "rotation-secret-three"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(KEYS), st.one_of(st.none(), st.sampled_from(SECRETS))), max_size=6
    )
)
def test_after_any_rotations_exactly_the_current_key_pairs_are_accepted(
    emulator: EmulatorServer, changes: list[tuple[str, str | None]]
) -> None:
    emulator.admin.reset()
    expected = {DEFAULT_ACCESS_KEY: DEFAULT_SECRET_KEY}
    for access_key, secret_key in changes:  # None: remove the key
        if secret_key is None:
            known = _admin(emulator, "DELETE", f"{ACCESS_KEYS}/{access_key}").status_code == 200
            assert known == (expected.pop(access_key, None) is not None)
        else:
            _admin(emulator, "PUT", f"{ACCESS_KEYS}/{access_key}", {"secret_key": secret_key})
            expected[access_key] = secret_key
    assert _admin(emulator, "GET", ACCESS_KEYS).json() == {"access_keys": sorted(expected)}
    for access_key in KEYS:
        for secret_key in SECRETS:
            accepted = _status(emulator, access_key=access_key, secret_key=secret_key)[0] == 200
            assert accepted == (expected.get(access_key) == secret_key), (access_key, secret_key)
