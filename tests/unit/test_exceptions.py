"""The exception classes (``_exceptions``, imported from ``errors`` as users do): messages, facts, transience
and pickling. Which class an error answer becomes, and its message from a real answer, is ``test_errors.py``;
``IncompleteListError`` and ``ModelArtsServiceRefusingError`` have their own files beside this one."""

from __future__ import annotations

import pickle
import subprocess
import sys

import httpx
import pytest

from airflow_provider_modelarts import errors
from airflow_provider_modelarts.errors import (
    IncompleteListError,
    ModelArtsAPIError,
    ModelArtsAuthError,
    ModelArtsConfigError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsServiceRefusingError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
    ResponseParseError,
)

PATH = "/v2/proj-1/datasets/ds-1/data-annotations/samples"


@pytest.mark.parametrize(
    "error",
    [
        ModelArtsAuthError(
            status=401, error_code="APIGW.0301", error_msg="m", request_id="r", method="GET", path="/p"
        ),
        ModelArtsThrottledError(status=429, retry_after=3.5, method="GET", path="/p"),
        ModelArtsTransportError(method="GET", path="/p", cause=httpx.ConnectError("refused"), attempts=3),
    ],
)
def test_exceptions_survive_pickling(error: ModelArtsError) -> None:
    # Airflow ships task exceptions between processes.
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert vars(clone).keys() == vars(error).keys()


def test_transport_error_message_names_cause_and_attempts() -> None:
    error = ModelArtsTransportError(
        method="POST", path=PATH, cause=httpx.ConnectError("connection refused"), attempts=4
    )
    assert (
        str(error)
        == f"POST {PATH} failed without an HTTP response after 4 attempts: ConnectError: connection refused."
    )


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ModelArtsConfigError, ValueError)
    assert issubclass(ModelArtsConfigError, ModelArtsError)


def test_transient_flags_of_the_non_http_errors() -> None:
    assert ModelArtsConfigError("x").is_transient is False
    assert ModelArtsError("x").is_transient is False
    dropped = ModelArtsTransportError(method="GET", path="/p", cause=httpx.ReadError("reset"))
    assert dropped.is_transient is True
    bad_scheme = ModelArtsTransportError(method="GET", path="/p", cause=httpx.UnsupportedProtocol("ftp"))
    assert bad_scheme.is_transient is False


def test_transport_error_message_and_facts() -> None:
    single = ModelArtsTransportError(method="GET", path=PATH, cause=httpx.ReadTimeout("timed out."))
    assert str(single) == f"GET {PATH} failed without an HTTP response: ReadTimeout: timed out."
    assert (single.method, single.path, single.attempts) == ("GET", PATH, 1)
    twice = ModelArtsTransportError(method="GET", path=PATH, cause=httpx.ConnectError(""), attempts=2)
    assert (
        str(twice) == f"GET {PATH} failed without an HTTP response after 2 attempts: ConnectError: no detail."
    )
    odd = ModelArtsTransportError(method="GET", path=PATH, cause=OSError("refused by DEX"))
    assert str(odd).endswith(": OSError: refused by DEX.")


def test_a_reply_that_does_not_parse_keeps_its_body_out_of_the_message() -> None:
    error = ResponseParseError("GET /v2/p/datasets: the reply is not JSON", b"<html>login page</html>")
    assert error.raw == b"<html>login page</html>"  # there to inspect, never in the task log
    assert str(error) == "GET /v2/p/datasets: the reply is not JSON" and "login" not in str(error)
    assert ResponseParseError("no body").raw == b""


def _one_of_each() -> list[ModelArtsError]:
    """An instance of every exception class ``errors`` exports, every attribute set."""
    answer = {
        "error_code": "ModelArts.0104",
        "error_msg": "m",
        "request_id": "r",
        "method": "PUT",
        "path": PATH,
    }
    return [
        ModelArtsError("plain"),
        ModelArtsConfigError("no endpoint"),
        ModelArtsAPIError(status=302, hint="h", retry_after=1.5, **answer),
        *(
            cls(status=status, hint="h", retry_after=2.0, **answer)
            for cls, status in (
                (ModelArtsAuthError, 401),
                (ModelArtsNotFoundError, 404),
                (ModelArtsThrottledError, 429),
                (ModelArtsServerError, 503),
                (ModelArtsValidationError, 400),
            )
        ),
        ModelArtsTransportError(method="GET", path=PATH, cause=httpx.ConnectError("refused"), attempts=3),
        ModelArtsServiceRefusingError(refused=8, last_error="last", applied=1, failed=2, not_sent=3),
        IncompleteListError(what="GET /x", reason="r", distinct=4, counts=(5, 6), pages=7, passes=2),
        ResponseParseError("GET /x: the reply is not JSON"),
    ]


def _facts(error: BaseException) -> tuple[type, str, dict[str, str]]:
    """What a copy must keep: the class, the message and every attribute (by repr: a cause is an exception,
    which compares by identity)."""
    return type(error), str(error), {name: repr(value) for name, value in vars(error).items()}


def test_one_of_each_covers_every_exception_errors_exports() -> None:
    exported = {getattr(errors, name) for name in errors.__all__}
    classes = {value for value in exported if isinstance(value, type) and issubclass(value, BaseException)}
    assert {type(error) for error in _one_of_each()} == classes


def test_every_exported_exception_round_trips_through_pickle_in_another_process() -> None:
    """The classes are defined in ``_exceptions`` (their pickles name that module and its ``_rebuild``); a
    fresh interpreter, as an Airflow worker or a multiprocessing child is, rebuilds each with every fact."""
    originals = _one_of_each()
    assert {type(error).__module__ for error in originals} == {"airflow_provider_modelarts._exceptions"}
    assert [_facts(pickle.loads(pickle.dumps(error))) for error in originals] == [
        _facts(error) for error in originals
    ]
    code = (
        "import pickle, sys\n"
        "for error in pickle.loads(sys.stdin.buffer.read()):\n"
        "    print(type(error).__module__, type(error).__name__, repr(str(error)), sorted(vars(error)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(originals), capture_output=True, check=True
    )
    assert out.stdout.decode().splitlines() == [
        f"{type(e).__module__} {type(e).__name__} {str(e)!r} {sorted(vars(e))}" for e in originals
    ]
