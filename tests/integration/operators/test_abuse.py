"""Hostile arguments against the operators, with a strict fake service at the network edge (respx).

The fake service checks every request it receives the way a strict ModelArts would: the AK/SK signature
verifies, the path stays inside the project and names the ids it was given (no traversal through ``/`` or
``..`` in an id), and the body is valid UTF-8 JSON that passes the request models in strict mode. A request
that fails any of that is recorded as a violation: the test fails even if the operator "succeeded".

Each case must end in: a clear error at construction (``ValueError`` / ``TypeError``), a clear task failure
at run time (``AirflowFailException`` / ``AirflowException`` with a message, nothing invalid sent), or a
success whose XCom value is small JSON -- never another exception type, and never a hang (deadline).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import pytest
import respx
from abuse_strategies import (
    HOSTILE,
    TRAVERSAL,
    UNICODE,
    InvalidBody,
    check_body,
    hostile_label_update,
    hostile_sample,
    must_be_rejected,
    nested,
)
from airflow.providers.common.compat.sdk import AirflowException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    CreateWorkforceSamplingTaskRequest,
    UpdateWorkforceSamplingTaskRequest,
)
from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from modelarts_emulator.signature import verify_signature

AK = "ABUSETESTAK000000001"
SK = "abuse-test-secret-key-61d0c7a9"
PROJECT = "abuse0project0000000000000000001"
ENDPOINT = "https://modelarts.abuse-test.example.com"
PREFIX = f"/v2/{PROJECT}/datasets/"

OPS = settings(
    max_examples=100,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module", autouse=True)
def _connection() -> Iterator[None]:
    conn = {
        "conn_type": "modelarts",
        "login": AK,
        "password": SK,
        "extra": {"project_id": PROJECT, "endpoint": ENDPOINT, "region": "cn-north-4"},
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(conn))
        yield


class StrictService:
    """respx side effect standing in for ModelArts; records every request that a strict service refuses."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.locales: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._handle(request)
        except InvalidBody as exc:
            self.violations.append(f"{request.method} {request.url.raw_path.decode()}: {exc}")
            return httpx.Response(400, json={"error_code": "ModelArts.4704", "error_msg": str(exc)[:200]})

    def _handle(self, request: httpx.Request) -> httpx.Response:
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        check = verify_signature(
            request.method, raw_path, raw_query, request.headers, request.content, {AK: SK}.get
        )
        if not check.ok:
            raise InvalidBody(f"signature refused: {check.reason}")
        if not raw_path.startswith(PREFIX):
            raise InvalidBody(f"path {raw_path!r} left {PREFIX}")
        segments = raw_path[len(PREFIX) :].split("/")
        if any(s in ("", ".", "..") for s in segments) or any(unquote(s) in (".", "..") for s in segments):
            raise InvalidBody(f"path {raw_path!r} has an empty or dot segment")
        ids, rest = [unquote(segments[0])], segments[1:]
        if rest[:1] == ["workforce-tasks"] and len(rest) >= 2:
            ids.append(unquote(rest[1]))
            rest = ["workforce-tasks", *rest[2:]]
        self.paths.append("/".join(ids))
        route = (request.method, "/".join(rest))
        if route in (
            ("POST", "data-annotations/samples"),
            ("PUT", "data-annotations/samples"),
            ("PUT", "workforce-tasks/data-annotations/samples"),
        ):
            kind = "add" if request.method == "POST" else "update"
            data = check_body(kind, request.content)
            self.bodies.append(data)
            results = [{"success": True, "name": s.get("name")} for s in data["samples"]]
            return httpx.Response(200, json={"success": True, "results": results})
        if route == ("PUT", "workforce-tasks/acceptance/status"):
            _strict(UpdateWorkforceSamplingTaskRequest, request.content)
            query = parse_qs(raw_query, keep_blank_values=True)
            if list(query) != ["locale"] or len(query["locale"]) != 1:
                raise InvalidBody(f"query {raw_query!r} must hold exactly one locale")
            self.locales.append(query["locale"][0])
            return httpx.Response(200, json={"sample_count": 0, "samples": []})
        if route == ("POST", "workforce-tasks/acceptance"):
            _strict(CreateWorkforceSamplingTaskRequest, request.content)
            return httpx.Response(200, json={"task_id": "checking-1"})
        raise InvalidBody(f"unexpected request {request.method} {raw_path}")


def _strict(model: type, body: bytes) -> None:
    from abuse_strategies import strict_json

    try:
        model.model_validate(strict_json(body), context=dict(STRICT_INPUT_CONTEXT))  # type: ignore[attr-defined]
    except ValueError as exc:
        raise InvalidBody(f"body fails strict validation: {str(exc)[:300]}") from None


def run_operator(factory: Any) -> tuple[str, Any, StrictService]:
    """Build and run an operator against the strict service.

    Returns ``(kind, detail, service)``: kind is "constructor" / "failed" (detail: the exception) or "ok"
    (detail: the return value).
    """
    service = StrictService()
    with respx.mock(assert_all_called=False) as router:
        router.route(host=httpx.URL(ENDPOINT).host).mock(side_effect=service)
        try:
            op = factory()
        except (ValueError, TypeError) as exc:
            assert str(exc).strip(), "construction errors need a message"
            return "constructor", exc, service
        try:
            result = op.execute(context={})
        except AirflowException as exc:  # AirflowFailException is a subclass
            assert str(exc).strip(), "task failures need a message"
            outcome: tuple[str, Any, StrictService] = ("failed", exc, service)
        except (ValueError, TypeError) as exc:
            if isinstance(exc, PydanticSerializationError):
                raise  # validation let the sample through and the request could not be built: a crash
            assert str(exc).strip()
            outcome = ("failed", exc, service)
        else:
            text = json.dumps(result)  # XCom must be JSON
            assert len(text) < 64_000, f"XCom value of {len(text):,} characters: a summary must stay small"
            outcome = ("ok", result, service)
    assert not service.violations, "invalid request sent:\n" + "\n".join(service.violations[:5])
    return outcome


def _message_ok(exc: BaseException) -> None:
    # Length is checked separately (test_errors_quote_huge_values_briefly), so that hypothesis does not
    # shrink every failure down to "a 200 KB string is quoted whole" and hide the others.
    assert str(exc).strip()


# -- AddSamplesOperator ----------------------------------------------------------------------------------


@OPS
@given(
    samples=st.lists(hostile_sample(), min_size=1, max_size=5), on_invalid=st.sampled_from(["fail", "skip"])
)
def test_add_samples_with_hostile_samples(samples: list[Any], on_invalid: str) -> None:
    kind, detail, service = run_operator(
        lambda: AddSamplesOperator(task_id="add", dataset_id="ds-1", samples=samples, on_invalid=on_invalid)
    )
    rejected = [s for s in samples if must_be_rejected(s)]
    if kind == "ok":
        sent = [s for body in service.bodies for s in body["samples"]]
        assert detail["added"] == len(sent)
        assert detail["added"] + detail["invalid"] == len(samples)
        assert len(rejected) <= detail["invalid"], "input JSON cannot carry was sent"
    else:
        _message_ok(detail)
        if on_invalid == "fail":
            assert not service.bodies, "on_invalid='fail' must send nothing when a sample is invalid"


@OPS
@given(value=HOSTILE)
def test_add_samples_with_a_hostile_samples_argument(value: Any) -> None:
    kind, detail, _ = run_operator(
        lambda: AddSamplesOperator(task_id="add", dataset_id="ds-1", samples=value)
    )
    if kind != "ok":
        _message_ok(detail)


@OPS
@given(
    dataset_id=st.one_of(
        TRAVERSAL, UNICODE, st.sampled_from(["a/b", "..", ".", "%2e%2e", "ds 1", "ds?x=1#f"])
    ),
    name=st.sampled_from(["a.jpg", "b.jpg"]),
)
def test_ids_cannot_escape_their_path_segment(dataset_id: str, name: str) -> None:
    kind, detail, service = run_operator(
        lambda: AddSamplesOperator(task_id="add", dataset_id=dataset_id, samples=[{"name": name}])
    )
    if kind == "ok":
        assert service.paths == [dataset_id], "the id must arrive as exactly one path segment"
    else:
        _message_ok(detail)


@OPS
@given(
    batch_size=st.one_of(HOSTILE, st.integers(-5, 3)),
    max_concurrency=st.one_of(HOSTILE, st.integers(-5, 30)),
    final_annotation=st.one_of(st.none(), st.booleans(), HOSTILE),
    label_format=st.one_of(
        st.none(), HOSTILE, st.just({"label_type": "1", "text_label_separator": "\ud800"})
    ),
)
def test_add_samples_with_hostile_options(
    batch_size: Any, max_concurrency: Any, final_annotation: Any, label_format: Any
) -> None:
    kind, detail, service = run_operator(
        lambda: AddSamplesOperator(
            task_id="add",
            dataset_id="ds-1",
            samples=[{"name": "a.txt", "sample_type": 1}],
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            final_annotation=final_annotation,
            label_format=label_format,
        )
    )
    if kind == "ok":
        assert service.bodies and service.bodies[0].get("final_annotation") == final_annotation
    else:
        _message_ok(detail)


# -- UpdateLabelsOperator --------------------------------------------------------------------------------


@OPS
@given(
    samples=st.lists(hostile_label_update(), min_size=1, max_size=5),
    workforce_task_id=st.one_of(st.none(), st.just("task-1"), TRAVERSAL),
    worker_email=st.one_of(st.none(), st.just("a@example.com"), HOSTILE),
    worker_id=st.one_of(st.none(), st.just("w1"), HOSTILE),
    allow_label_deletion=st.one_of(st.booleans(), HOSTILE),
)
def test_update_labels_with_hostile_input(
    samples: list[Any], workforce_task_id: Any, worker_email: Any, worker_id: Any, allow_label_deletion: Any
) -> None:
    kind, detail, service = run_operator(
        lambda: UpdateLabelsOperator(
            task_id="update",
            dataset_id="ds-1",
            samples=samples,
            workforce_task_id=workforce_task_id,
            worker_email=worker_email,
            worker_id=worker_id,
            allow_label_deletion=allow_label_deletion,
        )
    )
    if kind == "ok":
        sent = [s for body in service.bodies for s in body["samples"]]
        assert detail["updated"] == len(sent) == len(samples)
        if allow_label_deletion is not True:
            assert all(s.get("labels") for s in sent), "labels deleted without allow_label_deletion=True"
        assert not any(must_be_rejected(s) for s in samples)
    else:
        _message_ok(detail)


# -- AcceptanceOperator ----------------------------------------------------------------------------------


@OPS
@given(
    action=st.one_of(
        HOSTILE, st.sampled_from(["pass_all", "REJECT-ALL", "cancel", 3, "4", " 5 ", "pass", 6])
    ),
    overwrite=st.one_of(st.none(), st.booleans(), HOSTILE),
    locale=st.one_of(
        st.just("en-us"), st.sampled_from(["zh-cn", "en-us&action=1", "a b", "\u00e9"]), HOSTILE
    ),
    task=st.one_of(st.just("task-1"), TRAVERSAL, UNICODE),
)
def test_acceptance_with_hostile_arguments(action: Any, overwrite: Any, locale: Any, task: Any) -> None:
    kind, detail, service = run_operator(
        lambda: AcceptanceOperator(
            task_id="accept",
            dataset_id="ds-1",
            workforce_task_id=task,
            action=action,
            overwrite_last_result=overwrite,
            locale=locale,
        )
    )
    if kind == "ok":
        assert detail["action_code"] in range(6)
        assert service.paths == [f"ds-1/{task}"]
        assert isinstance(locale, str), f"locale {type(locale).__name__} was sent as {service.locales}"
        assert service.locales == [locale or "en-us"]
    else:
        _message_ok(detail)


@OPS
@given(rate=st.one_of(HOSTILE, st.floats(-1, 2)), num=st.one_of(st.none(), HOSTILE, st.integers(-3, 5)))
def test_start_acceptance_with_hostile_sampling(rate: Any, num: Any) -> None:
    kind, detail, _ = run_operator(
        lambda: AcceptanceOperator(
            task_id="start",
            dataset_id="ds-1",
            workforce_task_id="task-1",
            start_acceptance=True,
            sampling_rate=rate,
            sampling_num=num,
        )
    )
    if kind == "ok":
        assert detail["checking_task_id"] == "checking-1"
    else:
        _message_ok(detail)


# -- files=: traversal, symlinks, special files, unicode names --------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A folder holding the things a hostile or careless ``files=`` may point at."""
    root = tmp_path / "incoming"
    root.mkdir()
    (root / "cat.jpg").write_bytes(b"\xff\xd8cat")
    (root / "猫 ñ.png").write_bytes(b"\x89PNGneko")
    (root / "quote'name.jpg").write_bytes(b"q")
    (root / "notes.unknownext").write_bytes(b"?")
    (root / "dir.jpg").mkdir()
    (root / "link-to-passwd.txt").symlink_to("/etc/passwd")
    (root / "dangling.jpg").symlink_to(root / "missing.jpg")
    (root / "loop.jpg").symlink_to(root / "loop.jpg")
    (root / "dir-link.jpg").symlink_to(root / "dir.jpg")
    os.mkfifo(root / "pipe.jpg")  # opening a FIFO for reading would block forever
    return root


FILE_ARGS = [
    "../../etc/passwd",
    "{root}/../../../../etc/passwd",
    "{root}/../incoming/cat.jpg",
    "{root}/*.jpg",
    "{root}/**/*",
    "{root}/cat.jpg",
    "{root}/猫 ñ.png",
    "{root}/link-to-passwd.txt",
    "{root}/pipe.jpg",
    "{root}/loop.jpg",
    "{root}/dangling.jpg",
    "{root}/dir.jpg",
    "{root}/dir-link.jpg",
    "{root}/quote'name.jpg",
    "{root}/notes.unknownext",
    "/dev/zero",
    "/proc/self/status",
    "{root}/nothing-matches-*.jpg",
]


@settings(OPS, max_examples=60)
@given(
    picks=st.lists(st.sampled_from(FILE_ARGS), min_size=1, max_size=4),
    sample_type=st.one_of(st.none(), st.sampled_from([0, 1, "IMAGE", "text", 99, -1])),
    on_invalid=st.sampled_from(["fail", "skip"]),
)
def test_files_argument_is_safe(tree: Path, picks: list[str], sample_type: Any, on_invalid: str) -> None:
    files = [p.format(root=tree) for p in picks]
    kind, detail, service = run_operator(
        lambda: AddSamplesOperator(
            task_id="files", dataset_id="ds-1", files=files, sample_type=sample_type, on_invalid=on_invalid
        )
    )
    sent = [s for body in service.bodies for s in body["samples"]]
    for sample in sent:
        assert "/" not in sample["name"] and sample["name"] not in (".", ".."), sample["name"]
        matches = [p for p in _expand(files) if os.path.basename(p) == sample["name"]]
        assert matches, f"sent {sample['name']!r}, which is not one of the given files"
        data = base64.b64decode(sample["data"])
        assert any(
            Path(p).is_file() and Path(p).read_bytes() == data for p in matches if not Path(p).is_fifo()
        )
    if kind != "ok":
        _message_ok(detail)
        if on_invalid == "fail":
            assert not sent


def _expand(patterns: list[str]) -> list[str]:
    from airflow_provider_modelarts.bulk.sources import expand_file_patterns

    return expand_file_patterns(patterns)


def test_a_fifo_named_like_an_image_is_refused_not_read(tree: Path) -> None:
    kind, detail, service = run_operator(
        lambda: AddSamplesOperator(task_id="files", dataset_id="ds-1", files=[str(tree / "pipe.jpg")])
    )
    assert kind == "failed" and "pipe.jpg" in str(detail)
    assert not service.bodies


def test_traversal_in_a_file_name_never_reaches_the_sample_name(tree: Path) -> None:
    target = tree / ".." / "incoming" / "cat.jpg"
    kind, result, service = run_operator(
        lambda: AddSamplesOperator(task_id="f", dataset_id="ds-1", files=[str(target)])
    )
    assert kind == "ok" and result["added"] == 1
    assert [s["name"] for s in service.bodies[0]["samples"]] == ["cat.jpg"]


# -- values no JSON body can carry: refused before sending, naming the sample and the field -----------------

UNSENDABLE = {
    "nan-score": {"name": "a.jpg", "labels": [{"name": "cat", "score": float("nan")}]},
    "nan-coordinate": {
        "name": "a.jpg",
        "labels": [
            {
                "name": "cat",
                "property": {"@modelarts:shape": "point", "@modelarts:feature": [[float("nan"), 1]]},
            }
        ],
    },
    "inf-custom-attribute": {"name": "a.jpg", "labels": [{"name": "c", "property": {"note": float("inf")}}]},
    "surrogate-label-name": {"name": "a.jpg", "labels": [{"name": "\ud83d"}]},
    "object-in-metadata": {"name": "a.jpg", "metadata": {"custom": object()}},
    "int-key-in-metadata": {"name": "a.jpg", "metadata": {0: "zero"}},
    "deep-attribute": {"name": "a.jpg", "labels": [{"name": "cat", "property": {"deep": nested(2_000)}}]},
}


@pytest.mark.parametrize("case", sorted(UNSENDABLE))
@pytest.mark.parametrize("on_invalid", ["fail", "skip"])
def test_unsendable_values_are_refused_before_sending(case: str, on_invalid: str) -> None:
    samples = [{"name": "ok.jpg"}, UNSENDABLE[case]]
    kind, detail, service = run_operator(
        lambda: AddSamplesOperator(task_id="t", dataset_id="d", samples=samples, on_invalid=on_invalid)
    )
    if on_invalid == "fail":
        assert kind == "failed" and not service.bodies
        assert "sample #1 ('a.jpg')" in str(detail)
    else:
        assert kind == "ok" and detail["invalid"] == 1 and detail["added"] == 1
        assert [s["name"] for b in service.bodies for s in b["samples"]] == ["ok.jpg"]


# -- error messages quote hostile values briefly ----------------------------------------------------------

HUGE = "x" * 200_000
MESSAGE_LIMIT = 10_000

HUGE_CASES = {
    "add/batch_size": lambda: AddSamplesOperator(task_id="t", dataset_id="d", samples=[], batch_size=HUGE),
    "add/final_annotation": lambda: AddSamplesOperator(
        task_id="t", dataset_id="d", samples=[{"name": "a.jpg"}], final_annotation=HUGE
    ),
    "add/sample-name": lambda: AddSamplesOperator(task_id="t", dataset_id="d", samples=[{"name": HUGE}]),
    "add/sample-type": lambda: AddSamplesOperator(
        task_id="t", dataset_id="d", samples=[{"sample_type": HUGE}]
    ),
    "add/samples-text": lambda: AddSamplesOperator(task_id="t", dataset_id="d", samples=HUGE),
    "update/allow_label_deletion": lambda: UpdateLabelsOperator(
        task_id="t", dataset_id="d", samples=[{"sample_id": "s"}], allow_label_deletion=HUGE
    ),
    "update/sample_id": lambda: UpdateLabelsOperator(
        task_id="t", dataset_id="d", samples=[{"sample_id": HUGE, "labels": [{"name": "x", "score": 3}]}]
    ),
    "acceptance/action": lambda: AcceptanceOperator(
        task_id="t", dataset_id="d", workforce_task_id="w", action=HUGE
    ),
    "acceptance/sampling_rate": lambda: AcceptanceOperator(
        task_id="t", dataset_id="d", workforce_task_id="w", start_acceptance=True, sampling_rate=HUGE
    ),
    "acceptance/min_pass_rate": lambda: AcceptanceOperator(
        task_id="t", dataset_id="d", workforce_task_id="w", min_pass_rate=HUGE
    ),
}


@pytest.mark.parametrize("case", sorted(HUGE_CASES))
def test_errors_quote_huge_values_briefly(case: str) -> None:
    """A 200 KB value in the wrong place must give a readable error, not a 200 KB log line."""
    kind, detail, service = run_operator(HUGE_CASES[case])
    assert kind != "ok" and not service.bodies
    message = str(detail)
    size = len(message)
    assert size < MESSAGE_LIMIT, f"{size:,}-character message: {message[:200]}..."
