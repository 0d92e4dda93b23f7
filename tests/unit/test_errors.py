"""Error mapping: the right class for each answer, one clear sentence, no secrets."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from airflow_provider_modelarts.errors import (
    RESOURCE_MISSING_CODES,
    ModelArtsAPIError,
    ModelArtsAuthError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsValidationError,
    classify,
    error_from_response,
    parse_retry_after,
)

SECRET_TOKEN = "MIIZsecret-iam-token-value"
PATH = "/v2/proj-1/datasets/ds-1/data-annotations/samples"


def _response(
    status: int,
    body: object = None,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    method: str = "PUT",
    url: str = f"https://modelarts.example.com{PATH}?locale=en-us",
) -> httpx.Response:
    request = httpx.Request(
        method,
        url,
        headers={"X-Auth-Token": SECRET_TOKEN, "Authorization": "SDK-HMAC-SHA256 Access=AK, Signature=abc"},
    )
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ModelArtsValidationError),
        (401, ModelArtsAuthError),
        (403, ModelArtsAuthError),
        (404, ModelArtsNotFoundError),
        (409, ModelArtsValidationError),
        (422, ModelArtsValidationError),
        (429, ModelArtsThrottledError),
        (500, ModelArtsServerError),
        (502, ModelArtsServerError),
        (503, ModelArtsServerError),
    ],
)
def test_status_selects_exception_class(status: int, cls: type[ModelArtsAPIError]) -> None:
    error = error_from_response(
        _response(status, {"error_code": "ModelArts.0104", "error_msg": "Parameter error."})
    )
    assert type(error) is cls
    assert isinstance(error, ModelArtsAPIError)
    assert isinstance(error, ModelArtsError)
    assert error.status == status
    assert error.error_code == "ModelArts.0104"
    assert error.error_msg == "Parameter error."


@pytest.mark.parametrize(
    ("status", "code"), [(400, "ModelArts.4352"), (400, "ModelArts.4619"), (404, "ModelArts.4352")]
)
def test_missing_resource_codes_are_not_found_whatever_the_status(status: int, code: str) -> None:
    """The error table files these under 400 while the pages list 404: callers catch one class either way."""
    error = error_from_response(_response(status, {"error_code": code, "error_msg": "does not exist"}))
    assert type(error) is ModelArtsNotFoundError
    assert error.status == status


def test_message_is_one_sentence_with_method_path_code_and_request_id() -> None:
    error = error_from_response(
        _response(
            404,
            {"error_code": "ModelArts.4420", "error_msg": "Sample not found"},
            headers={"X-Request-Id": "abc"},
        )
    )
    assert str(error) == f"PUT {PATH} failed with HTTP 404 ModelArts.4420: Sample not found (request id abc)."
    assert (error.method, error.path, error.request_id) == ("PUT", PATH, "abc")
    assert "\n" not in str(error)


def test_query_string_and_request_headers_never_reach_the_message() -> None:
    error = error_from_response(
        _response(
            401,
            {"error_code": "ModelArts.4201", "error_msg": "Invalid token."},
            url=f"https://h{PATH}?token={SECRET_TOKEN}",
        )
    )
    text = str(error) + repr(error)
    assert SECRET_TOKEN not in text
    assert "Signature" not in text
    assert "token=" not in text


@pytest.mark.parametrize("header", ["X-Request-Id", "x-request-id", "X-Trace-Id"])
def test_request_id_header_fallbacks(header: str) -> None:
    error = error_from_response(
        _response(500, {"error_code": "X", "error_msg": "boom"}, headers={header: "rid-7"})
    )
    assert error.request_id == "rid-7"
    assert "(request id rid-7)" in str(error)


def test_apigw_signature_failure_hints_at_keys_and_clock_skew() -> None:
    error = error_from_response(
        _response(
            401,
            {
                "error_code": "APIGW.0301",
                "error_msg": "Incorrect IAM authentication information: verify aksk signature fail",
            },
        )
    )
    assert isinstance(error, ModelArtsAuthError)
    assert error.error_code == "APIGW.0301"
    assert "AK/SK" in str(error)
    assert "15 minutes" in str(error)
    assert "clock" in str(error)


def test_bare_401_hints_at_keys_and_clock() -> None:
    error = error_from_response(_response(401, text=""))
    assert isinstance(error, ModelArtsAuthError)
    assert error.error_code is None
    assert "15 minutes" in str(error)


@pytest.mark.parametrize("code", ["ModelArts.4127", "ModelArts.4201"])
def test_expired_or_invalid_token_hint(code: str) -> None:
    error = error_from_response(
        _response(401, {"error_code": code, "error_msg": "Token authentication expired."})
    )
    assert isinstance(error, ModelArtsAuthError)
    assert "token expired or was revoked" in str(error)
    assert "15 minutes" not in str(error)


def test_modelarts_4201_as_bad_request_is_not_a_token_problem() -> None:
    # The error-code table lists 4201 twice: 401 "Invalid token" and 400 "Invalid request URL".
    error = error_from_response(
        _response(400, {"error_code": "ModelArts.4201", "error_msg": "Invalid request URL"})
    )
    assert isinstance(error, ModelArtsValidationError)
    assert "token" not in str(error)


def test_system_busy_code_is_throttling_even_without_429() -> None:
    error = error_from_response(
        _response(400, {"error_code": "ModelArts.6101", "error_msg": "The system is busy now."})
    )
    assert isinstance(error, ModelArtsThrottledError)


def test_throttled_error_carries_retry_after_seconds() -> None:
    error = error_from_response(
        _response(429, {"error_code": "ModelArts.6101"}, headers={"Retry-After": "7"})
    )
    assert isinstance(error, ModelArtsThrottledError)
    assert error.retry_after == 7.0


def test_non_json_body_becomes_the_message_shortened() -> None:
    html = "<html><body>" + "gateway timeout " * 100 + "</body></html>"
    error = error_from_response(_response(504, text=html))
    assert isinstance(error, ModelArtsServerError)
    assert error.error_code is None
    assert error.error_msg is not None
    assert error.error_msg.startswith("<html><body>gateway timeout")
    assert len(error.error_msg) <= 300
    assert error.error_msg.endswith(f"...[{len(' '.join(html.split())):,} chars]")  # the one _text.shorten


def test_nested_gateway_error_body() -> None:
    error = error_from_response(
        _response(403, {"error": {"code": "APIGW.0302", "message": "blocked by ACL"}})
    )
    assert isinstance(error, ModelArtsAuthError)
    assert error.error_code == "APIGW.0302"
    assert error.error_msg == "blocked by ACL"


def test_json_that_is_not_an_object_is_tolerated() -> None:
    error = error_from_response(_response(500, ["unexpected"]))
    assert isinstance(error, ModelArtsServerError)
    assert (error.error_code, error.error_msg) == (None, None)
    assert str(error) == f"PUT {PATH} failed with HTTP 500."


def test_response_without_request_still_maps() -> None:
    error = error_from_response(httpx.Response(404, json={"error_code": "ModelArts.4420", "error_msg": "x"}))
    assert isinstance(error, ModelArtsNotFoundError)
    assert error.method is None
    assert str(error).startswith("ModelArts request failed with HTTP 404 ModelArts.4420")


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 12, 7, 5, 0, 0, tzinfo=UTC)  # the clock is injected: no window to hit
    future = format_datetime(now + timedelta(seconds=120), usegmt=True)
    assert parse_retry_after(future, now=now) == 120.0
    assert parse_retry_after(future, now=now + timedelta(seconds=150)) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# ----------------------------------------------------------------------------- the service's error table

_DATA = Path(__file__).resolve().parent / "data" / "modelarts_error_codes.tsv"
_SHARED = Path(__file__).resolve().parents[3] / "shared" / "spec" / "related" / "modelarts_error_codes.tsv"


def _table_rows() -> list[tuple[int, str, str]]:
    rows = []
    for line in _DATA.read_text(encoding="utf-8").splitlines()[1:]:
        status, code, message = line.split("\t")[:3]
        rows.append((int(status), code, message))
    return rows


TABLE = _table_rows()

# "Does not exist" codes of the labeling resources this provider addresses by id (dataset, version, sample,
# team, member, task, team labeling task, label task). The table files them under 400; the API pages list 404.
LABELING_NOT_FOUND = {
    "ModelArts.4301",
    "ModelArts.4338",
    "ModelArts.4352",
    "ModelArts.4353",
    "ModelArts.4420",
    "ModelArts.4601",
    "ModelArts.4604",
    "ModelArts.4612",
    "ModelArts.4619",
    "ModelArts.4631",
    "ModelArts.4636",
    "ModelArts.4700",
    "ModelArts.4801",
}


def _expected(status: int, code: str) -> tuple[type[ModelArtsAPIError], bool]:
    """The rules of issue 10, written out independently of errors.classify: (class, transient)."""
    if status >= 500 or status == 408:  # server fault whatever the code; 408 = the backend timed out
        return ModelArtsServerError, True
    if status < 400:  # informational rows: not an error status, nothing known about them
        return ModelArtsAPIError, False
    if status == 429 or code == "ModelArts.6101":
        return ModelArtsThrottledError, True
    if status in (401, 403):
        return ModelArtsAuthError, False
    if status == 404 or code in LABELING_NOT_FOUND:
        return ModelArtsNotFoundError, False
    return ModelArtsValidationError, False


def test_the_table_copy_is_the_shared_one_byte_for_byte() -> None:
    copy = _DATA.read_bytes()
    assert copy.startswith(b"http_status\terror_code\t")
    assert len(TABLE) == 683
    if _SHARED.exists():  # next to the checkout in this workspace; a clean clone elsewhere has only the copy
        assert copy == _SHARED.read_bytes()


def test_every_error_table_row_gets_its_class_and_transience() -> None:
    # One test over the 683 rows (not one test per row): a failure lists every row that is off, and mutation
    # testing runs this table once per mutant instead of paying pytest's per-test cost 683 times.
    wrong = []
    for status, code, message in TABLE:
        error = error_from_response(_response(status, {"error_code": code, "error_msg": message}))
        got = (type(error), error.is_transient, error.status, error.error_code)
        if got != (*_expected(status, code), status, code):
            wrong.append((status, code, got))
    assert wrong == []


def test_not_found_codes_are_sourced_from_the_table() -> None:
    """Every code filed as not-found says so in the table, at a 4xx status."""
    for code in RESOURCE_MISSING_CODES:
        messages = [m.lower() for s, c, m in TABLE if c == code and 400 <= s < 500]
        assert messages, code
        assert any("not exist" in m or "not found" in m for m in messages), (code, messages)
    assert RESOURCE_MISSING_CODES == LABELING_NOT_FOUND


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (503, "ModelArts.4700", ModelArtsServerError),  # "Unavailable gateway"
        (500, "ModelArts.4801", ModelArtsServerError),  # "Failed to obtain the consul"
        (400, "ModelArts.4700", ModelArtsNotFoundError),  # "Task does not exist"
        (404, "ModelArts.4801", ModelArtsNotFoundError),  # the pages list 404 for missing resources
        (503, "ModelArts.6101", ModelArtsServerError),  # 5xx decides first; still transient
        (401, "ModelArts.6101", ModelArtsThrottledError),
        (408, "ModelArts.4205", ModelArtsServerError),
    ],
)
def test_status_decides_before_the_code(status: int, code: str, cls: type[ModelArtsAPIError]) -> None:
    assert classify(status, code) is cls
    assert error_from_response(_response(status, {"error_code": code})).is_transient is (
        status != 400 and status != 404
    )


def test_retry_after_is_kept_on_any_status() -> None:
    error = error_from_response(
        _response(503, {"error_code": "ModelArts.4302"}, headers={"Retry-After": "4"})
    )
    assert isinstance(error, ModelArtsServerError)
    assert error.retry_after == 4.0
    assert pickle.loads(pickle.dumps(error)).retry_after == 4.0


# ----------------------------------------------------------------------------- what a task log says


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [
        (401, "ModelArts.0202", "the IAM token expired or was revoked"),
        (401, "ModelArts.6620", "the IAM token expired or was revoked"),
        (401, "ModelArts.3801", "within 15 minutes of real time"),
        (403, "ModelArts.0206", "within 15 minutes of real time"),
        (404, "APIGW.0101", "the endpoint or the API path is wrong; check the region / endpoint override"),
        (400, "ModelArts.6101", "the service is busy; retry later"),
        (401, "APIGW.0303", "within 15 minutes of real time"),  # any gateway code at 401: the signature
        (401, "ModelArts.9999", "check the credentials and the permissions of the IAM user on this project"),
        (403, "ModelArts.9999", "check the credentials and the permissions of the IAM user on this project"),
    ],
)
def test_each_known_code_and_auth_status_carries_its_hint(status: int, code: str, hint: str) -> None:
    error = error_from_response(_response(status, {"error_code": code, "error_msg": "refused"}))
    assert error.hint is not None and hint in error.hint
    assert str(error) == f"PUT {PATH} failed with HTTP {status} {code}: refused; {error.hint}."


@pytest.mark.parametrize("status", [400, 402, 404, 409, 500])
def test_no_hint_where_nothing_is_known(status: int) -> None:
    error = error_from_response(_response(status, {"error_code": "ModelArts.9999", "error_msg": "x"}))
    assert error.hint is None
    assert str(error) == f"PUT {PATH} failed with HTTP {status} ModelArts.9999: x."


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("Sample not found.", "Sample not found"),
        ("Sample not found. ", "Sample not found"),
        ("Unsupported format: DOCX", "Unsupported format: DOCX"),
        (".hidden files are not allowed", ".hidden files are not allowed"),
    ],
)
def test_the_service_message_ends_the_sentence_once(message: str, shown: str) -> None:
    error = error_from_response(_response(400, {"error_code": "ModelArts.0104", "error_msg": message}))
    assert str(error) == f"PUT {PATH} failed with HTTP 400 ModelArts.0104: {shown}."
    assert error.error_msg == message  # the raw fact is kept as sent


@pytest.mark.parametrize(
    "header", ["X-Request-Id", "x-request-id", "X-Trace-Id", "X-Apig-Request-Id", "X-Openstack-Request-Id"]
)
def test_every_request_id_header_is_read(header: str) -> None:
    error = error_from_response(_response(500, {"error_code": "X"}, headers={header: " rid-9 "}))
    assert error.request_id == "rid-9"


def test_the_first_request_id_header_wins_and_empty_ones_are_skipped() -> None:
    both = error_from_response(_response(500, None, headers={"X-Trace-Id": "trace", "X-Request-Id": "req"}))
    assert both.request_id == "req"
    empty_first = error_from_response(_response(500, None, headers={"X-Request-Id": "", "X-Trace-Id": "t"}))
    assert empty_first.request_id == "t"
    assert error_from_response(_response(500, None)).request_id is None


def test_body_shapes_other_gateways_use() -> None:
    message_key = error_from_response(_response(400, {"error_code": "E.1", "error_message": "bad input"}))
    assert (message_key.error_code, message_key.error_msg) == ("E.1", "bad input")
    plain = error_from_response(_response(400, {"code": "E.2", "message": "also bad"}))
    assert (plain.error_code, plain.error_msg) == ("E.2", "also bad")
    # A body with its own error_code keeps it even when it also nests an "error" object.
    both = error_from_response(
        _response(
            400, {"error_code": "ModelArts.0104", "error_msg": "top", "error": {"code": "X", "message": "in"}}
        )
    )
    assert (both.error_code, both.error_msg) == ("ModelArts.0104", "top")
    # Empty strings are no code and no message.
    empty = error_from_response(_response(400, {"error_code": "", "error_msg": ""}))
    assert (empty.error_code, empty.error_msg) == (None, None)
    assert str(empty) == f"PUT {PATH} failed with HTTP 400."


def test_long_messages_are_cut_to_300_characters_json_or_not() -> None:
    long = "x" * 1000
    from_json = error_from_response(_response(500, {"error_code": "E", "error_msg": long}))
    from_text = error_from_response(_response(502, text=long))
    for error in (from_json, from_text):
        assert error.error_msg is not None
        assert len(error.error_msg) == 300 and error.error_msg.endswith("...[1,000 chars]")


def test_a_body_that_is_not_utf8_still_becomes_a_message() -> None:
    request = httpx.Request("GET", f"https://modelarts.example.com{PATH}")
    response = httpx.Response(502, content=b"Bad \xff\xfe gateway", request=request)
    error = error_from_response(response)
    assert error.error_msg == "Bad \ufffd\ufffd gateway"


def test_response_without_request_has_no_method_or_path() -> None:
    error = error_from_response(httpx.Response(500))
    assert (error.method, error.path) == (None, None)


def test_retry_after_as_an_http_date_in_any_zone_or_none() -> None:
    now = datetime(2026, 12, 7, 5, 0, 0, tzinfo=UTC)  # the clock is injected: no window to hit
    future = now + timedelta(hours=2)
    # The same instant written in UTC+01:00: still two hours from now.
    plus_one = format_datetime(future.astimezone(timezone(timedelta(hours=1))))
    assert parse_retry_after(plus_one, now=now) == 7200.0
    # "-0000" means UTC without saying so (RFC 5322): read as UTC, not refused and not crashed.
    naive = format_datetime(future.replace(tzinfo=None))
    assert naive.endswith("-0000")
    assert parse_retry_after(naive, now=now) == 7200.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000") == 0.0


def test_every_exception_of_the_package_is_drawn_in_the_errors_docstring_with_its_module() -> None:
    """One place to find every exception (issue 26): errors.py's docstring names each class and its module."""
    import importlib
    import pkgutil

    import airflow_provider_modelarts
    from airflow_provider_modelarts import errors

    tree = errors.__doc__ or ""
    found: dict[str, str] = {}
    package = airflow_provider_modelarts.__path__
    for module_info in pkgutil.walk_packages(package, "airflow_provider_modelarts."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, errors.ModelArtsError):
                found[value.__name__] = value.__module__.removeprefix("airflow_provider_modelarts.")
    assert len(found) >= 20
    entries = tree.split("+--")  # one entry per branch of the drawn tree
    for name, module in found.items():
        entry = next((e for e in entries if name in e.replace(",", " ").replace(":", " ").split()), None)
        assert entry is not None, f"{name} ({module}) is not drawn in errors.py's docstring"
        assert module in entry, f"{name} is drawn without its module {module}"


def test_a_retry_after_date_is_read_against_the_answers_own_date_header() -> None:
    """Both dates are the server's clock: a skew between its clock and ours changes nothing."""
    from airflow_provider_modelarts._error_answers import retry_after

    server_now = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)  # years behind this machine's clock

    def answer(**headers: str) -> httpx.Response:
        return httpx.Response(503, headers=headers)

    later = format_datetime(server_now + timedelta(seconds=45), usegmt=True)
    assert (
        retry_after(answer(**{"Date": format_datetime(server_now, usegmt=True), "Retry-After": later})) == 45
    )
    # A Date without a zone ("-0000") is UTC, as the Retry-After date is.
    naive = format_datetime(server_now.replace(tzinfo=None))
    assert retry_after(answer(**{"Date": naive, "Retry-After": later})) == 45
    # No Date, or one that cannot be read: against this machine's clock (that date is long past: 0, not None).
    assert retry_after(answer(**{"Retry-After": later})) == 0.0
    assert retry_after(answer(**{"Date": "yesterday", "Retry-After": later})) == 0.0
    # Seconds need no clock; no Retry-After is None whatever the Date.
    assert retry_after(answer(**{"Date": "yesterday", "Retry-After": "7"})) == 7.0
    assert retry_after(answer(Date=format_datetime(server_now, usegmt=True))) is None
    error = error_from_response(
        answer(**{"Date": format_datetime(server_now, usegmt=True), "Retry-After": later})
    )
    assert error.retry_after == 45


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("ModelArts.4310", "grant ModelArts access to OBS"),
        ("ModelArts.4311", "check the path"),
        ("ModelArts.4312", "check the path"),
        ("ModelArts.4374", "check the path"),
        ("ModelArts.4315", "//"),
    ],
)
def test_the_obs_codes_of_an_import_carry_the_tables_remedy(code: str, words: str) -> None:
    from airflow_provider_modelarts.errors import code_hint

    assert words in (code_hint(code) or "")
    # The same hint when the code comes as an error answer of create (4310 at 403, the others at 400).
    request = httpx.Request("POST", "https://x.example.com/v2/p/datasets/d/import-tasks")
    status = 403 if code == "ModelArts.4310" else 400
    answer = httpx.Response(status, json={"error_code": code, "error_msg": "m"}, request=request)
    assert words in str(error_from_response(answer))


def test_a_code_without_a_hint_has_none() -> None:
    from airflow_provider_modelarts.errors import code_hint

    assert code_hint("ModelArts.9999") is None and code_hint(None) is None
