"""Sending on its own: bounded concurrency, backpressure, batch errors vs fatal errors, one event loop."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

from airflow_provider_modelarts.bulk.checks import DuplicateKeys, RunRefused, SampleCheck
from airflow_provider_modelarts.bulk.concurrency import START, AdaptiveLimit, FixedLimit
from airflow_provider_modelarts.bulk.planning import Batch, BulkOptions, ItemRef
from airflow_provider_modelarts.bulk.sending import REFUSAL_BUDGET, BulkOperation, batch_failure, run_batches
from airflow_provider_modelarts.bulk.sources import ListSource, ManifestSource, Source, SourceNotFoundError
from airflow_provider_modelarts.bulk.tally import ItemResult, Outcome
from airflow_provider_modelarts.bulk.validation import Validator
from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsServiceRefusingError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
    ResponseParseError,
)
from airflow_provider_modelarts.models import Sample


async def _run(n_batches: int, concurrency: int, delay: float = 0.005) -> tuple[int, int, list[int]]:
    in_flight = 0
    peak = 0
    built = 0
    alive_peak = 0
    done: list[int] = []

    def batches() -> Any:
        nonlocal built
        for i in range(n_batches):
            built += 1
            yield Batch(i + 1, [i], [ItemRef(i, None)])

    async def send(batch: Batch[int]) -> list[ItemResult]:
        nonlocal in_flight, peak, alive_peak
        in_flight += 1
        peak = max(peak, in_flight)
        alive_peak = max(alive_peak, built - len(done))
        await asyncio.sleep(delay)
        in_flight -= 1
        return [ItemResult(Outcome.DONE)]

    def on_done(batch: Batch[int], results: list[ItemResult]) -> None:
        done.append(batch.number)

    await run_batches(
        batches(), send, max_concurrency=concurrency, on_done=on_done, classify_error=lambda e: None
    )
    return peak, alive_peak, done


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_run_batches_bounds_concurrency_and_batches_alive(concurrency: int) -> None:
    peak, alive_peak, done = asyncio.run(_run(40, concurrency))
    assert sorted(done) == list(range(1, 41))
    assert peak == concurrency  # reached, never exceeded
    # Backpressure: built-but-unfinished batches never exceed the in-flight ones plus the one being built.
    assert alive_peak <= concurrency + 1


def test_run_batches_records_batch_errors_and_stops_on_fatal_ones() -> None:
    class Recoverable(Exception):
        pass

    class Fatal(Exception):
        pass

    started: list[int] = []
    recorded: dict[int, list[ItemResult]] = {}

    def batches() -> Any:
        for i in range(10):
            yield Batch(i + 1, [i, i], [ItemRef(2 * i, None), ItemRef(2 * i + 1, None)])

    async def send(batch: Batch[int]) -> list[ItemResult]:
        started.append(batch.number)
        await asyncio.sleep(0)
        if batch.number == 2:
            raise Recoverable("flaky")
        if batch.number == 4:
            raise Fatal("bad credentials")
        return [ItemResult(Outcome.DONE)] * 2

    def classify(exc: BaseException) -> ItemResult | None:
        return ItemResult(Outcome.FAILED, "E.500", str(exc)) if isinstance(exc, Recoverable) else None

    with pytest.raises(Fatal):
        asyncio.run(
            run_batches(
                batches(),
                send,
                max_concurrency=1,
                on_done=lambda b, r: recorded.__setitem__(b.number, r),
                classify_error=classify,
            )
        )
    assert started == [1, 2, 3, 4]  # nothing started after the fatal error
    assert recorded[2] == [ItemResult(Outcome.FAILED, "E.500", "flaky")] * 2
    assert 4 not in recorded


def test_bulk_run_inside_a_running_event_loop_is_refused_clearly_before_any_request() -> None:
    """Airflow calls execute() outside any event loop; inside one, the run says so and sends nothing."""
    opened: list[int] = []

    async def open_client() -> Any:
        opened.append(1)
        raise AssertionError("no client may be opened")

    async def send(client: Any, batch: Batch[Any]) -> list[ItemResult]:
        raise AssertionError("nothing may be sent")

    options = BulkOptions(batch_size=100, max_concurrency=4, max_batch_bytes=1 << 20)
    operation = BulkOperation(
        Validator(Sample, "name"), send, open_client, "added", "Adding", lambda: "dataset d", options
    )

    async def inside_a_loop() -> None:
        operation.run(ListSource([{"name": "a.jpg"}]), dataset_id="d")

    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(inside_a_loop())
    assert opened == []


@pytest.mark.parametrize(
    ("error", "fatal"),
    [
        (ModelArtsAuthError(status=401, error_code="APIGW.0301"), True),
        (ModelArtsNotFoundError(status=404, error_code="ModelArts.4352"), True),  # the dataset
        (ModelArtsNotFoundError(status=400, error_code="ModelArts.4420"), False),  # one sample
        (ModelArtsServerError(status=500, error_code="ModelArts.0001"), False),
        (ModelArtsTransportError(method="POST", path="/x", cause=OSError("reset")), False),
        (KeyError("bug"), True),
    ],
)
def test_batch_failure_stops_the_run_only_when_every_batch_would_fail(error: Exception, fatal: bool) -> None:
    result = batch_failure(error)
    assert (result is None) is fatal
    if result is not None:
        assert result.outcome is Outcome.FAILED and result.error_code


# ----------------------------------------------------------------- batch_failure: what a failed batch records


def test_a_service_error_is_recorded_with_its_code_and_message() -> None:
    error = ModelArtsServerError(status=500, error_code="ModelArts.0001", error_msg="Internal error.")
    assert batch_failure(error) == ItemResult(Outcome.FAILED, "ModelArts.0001", "Internal error.")
    bare = ModelArtsServerError(status=502, method="POST", path="/x")
    assert batch_failure(bare) == ItemResult(Outcome.FAILED, "HTTP 502", "POST /x failed with HTTP 502.")


def test_a_transport_error_is_recorded_as_such_with_its_sentence() -> None:
    error = ModelArtsTransportError(method="POST", path="/x", cause=OSError("reset"), attempts=3)
    assert batch_failure(error) == ItemResult(
        Outcome.FAILED,
        "transport_error",
        "POST /x failed without an HTTP response after 3 attempts: OSError: reset.",
    )


def test_another_provider_error_is_recorded_by_its_class() -> None:
    error = ResponseParseError("the reply was not JSON")
    assert batch_failure(error) == ItemResult(Outcome.FAILED, "ResponseParseError", str(error))


def test_a_sample_that_no_longer_serialises_fails_its_batch_with_the_first_line_of_the_reason() -> None:
    # A manifest changed between the validation and the sending pass.
    error = PydanticSerializationError("Unable to serialize " + "v" * 300 + "\nsecond line")
    result = batch_failure(error)
    assert result is not None and (result.outcome, result.error_code) == (Outcome.FAILED, "unsendable")
    assert result.error_msg is not None and len(result.error_msg) == 160
    assert result.error_msg.startswith("Unable to serialize vvv") and "second line" not in result.error_msg
    short = batch_failure(PydanticSerializationError("Unable to serialize x\nat samples.3\nsee docs"))
    assert short == ItemResult(Outcome.FAILED, "unsendable", "Unable to serialize x")


# ------------------------------------------------------------------------- run_batches


def test_run_batches_reports_the_concurrency_it_reached() -> None:
    async def send(batch: Batch[int]) -> list[ItemResult]:
        await asyncio.sleep(0)
        return [ItemResult(Outcome.DONE)]

    def batches(n: int) -> list[Batch[int]]:
        return [Batch(i + 1, [i], [ItemRef(i, None)]) for i in range(n)]

    def run(n: int, concurrency: int) -> int:
        return asyncio.run(
            run_batches(batches(n), send, max_concurrency=concurrency, on_done=lambda b, r: None)
        )

    assert run(20, 3) == 3
    assert run(1, 3) == 1
    assert run(0, 3) == 0


def test_run_batches_refuses_a_concurrency_below_one() -> None:
    async def send(batch: Batch[int]) -> list[ItemResult]:
        raise AssertionError("nothing may be sent")

    with pytest.raises(ValueError) as info:
        asyncio.run(run_batches([], send, max_concurrency=0, on_done=lambda b, r: None))
    assert str(info.value) == "max_concurrency must be at least 1, got 0"
    with pytest.raises(ValueError) as info:
        asyncio.run(run_batches([], send, max_concurrency=1, on_done=lambda b, r: None, refusal_budget=0))
    assert str(info.value) == "refusal_budget must be at least 1, got 0"


def _numbered(count: int) -> list[Batch[int]]:
    return [Batch(i + 1, [i], [ItemRef(i, None)]) for i in range(count)]


class RecordingBroke(Exception):
    pass


@settings(max_examples=40)
@given(concurrency=st.integers(1, 8), count=st.integers(1, 30), data=st.data(), adaptive=st.booleans())
def test_an_exception_while_a_finished_batch_is_recorded_ends_the_run_with_that_exception(
    concurrency: int, count: int, data: st.DataObject, adaptive: bool
) -> None:
    """Whichever batch it is, however many are in flight: the run does not succeed with a batch neither
    done nor failed, and starts nothing once recording failed."""
    broken = data.draw(st.integers(1, count), label="batch whose recording raises")
    started: list[int] = []
    recorded: list[int] = []

    async def send(batch: Batch[int]) -> list[ItemResult]:
        started.append(batch.number)
        for _ in range(batch.number % 3):  # answers come back out of order
            await asyncio.sleep(0)
        return [ItemResult(Outcome.DONE)]

    def on_done(batch: Batch[int], results: list[ItemResult]) -> None:
        if batch.number == broken:
            raise RecordingBroke(f"could not record batch {batch.number}")
        recorded.append(batch.number)

    limit = AdaptiveLimit(concurrency) if adaptive else FixedLimit(concurrency)
    with pytest.raises(RecordingBroke, match=f"could not record batch {broken}$"):
        asyncio.run(run_batches(_numbered(count), send, on_done=on_done, limit=limit))
    assert broken not in recorded
    assert max(started) <= broken + 2 * concurrency  # at most the ones in flight then, nothing new
    assert set(recorded) == set(started) - {broken}  # the ones in flight finished and were recorded


def test_a_controller_that_fails_while_learning_ends_the_run_too() -> None:
    class Broken(FixedLimit):
        def finished(self, ticket: int, *, latency: float | None, throttled: bool, size: int = 1) -> None:
            raise RecordingBroke("the controller broke")

    async def send(batch: Batch[int]) -> list[ItemResult]:
        await asyncio.sleep(0)
        return [ItemResult(Outcome.DONE)]

    recorded: list[int] = []
    with pytest.raises(RecordingBroke, match="the controller broke"):
        asyncio.run(
            run_batches(_numbered(10), send, on_done=lambda b, r: recorded.append(b.number), limit=Broken(2))
        )
    assert recorded == []


_REFUSALS = {
    "throttled": ModelArtsThrottledError(status=429, error_code="ModelArts.6101", method="POST", path="/x"),
    "server": ModelArtsServerError(status=503, error_code="ModelArts.4302", method="POST", path="/x"),
    "transport": ModelArtsTransportError(method="POST", path="/x", cause=OSError("connection refused")),
}


@settings(max_examples=40)
@given(
    concurrency=st.integers(1, 20),
    count=st.integers(REFUSAL_BUDGET, 300),
    kind=st.sampled_from(sorted(_REFUSALS)),
    adaptive=st.booleans(),
)
def test_a_service_refusing_everything_stops_the_run_after_the_budget_and_sends_nothing_twice(
    concurrency: int, count: int, kind: str, adaptive: bool
) -> None:
    error = _REFUSALS[kind]
    sent: Counter[int] = Counter()
    recorded: dict[int, list[ItemResult]] = {}

    async def send(batch: Batch[int]) -> list[ItemResult]:
        sent[batch.number] += 1
        await asyncio.sleep(0)
        raise error

    limit = AdaptiveLimit(concurrency) if adaptive else FixedLimit(concurrency)
    with pytest.raises(ModelArtsServiceRefusingError) as info:
        asyncio.run(
            run_batches(
                _numbered(count), send, on_done=lambda b, r: recorded.__setitem__(b.number, r), limit=limit
            )
        )
    assert set(sent.values()) == {1}  # nothing sent twice
    assert len(sent) <= REFUSAL_BUDGET + concurrency - 1  # the budget, and those already in flight
    assert sorted(recorded) == sorted(sent)  # each sent batch recorded once, as failed
    assert all(results[0].outcome is Outcome.FAILED for results in recorded.values())
    assert info.value.refused == REFUSAL_BUDGET and info.value.last_error == str(error)
    assert info.value.is_transient  # waiting may help: the task may be retried


@settings(max_examples=60)
@given(
    fates=st.lists(st.sampled_from(["answered", "refused", "rejected"]), min_size=1, max_size=80),
    budget=st.integers(1, 6),
)
@example(fates=["refused"] * 7 + ["rejected"] + ["refused"] * 7 + ["answered"], budget=REFUSAL_BUDGET)
def test_only_budget_refusals_in_a_row_stop_a_run_any_other_outcome_starts_the_count_again(
    fates: list[str], budget: int
) -> None:
    """One at a time (the order answers come back in is the order of sending): the run stops right after
    the first run of ``budget`` refused batches (a transient error), and never before; a batch answered,
    or rejected as sent (a 400), starts the count again."""
    sent: list[int] = []

    async def send(batch: Batch[int]) -> list[ItemResult]:
        sent.append(batch.number)
        await asyncio.sleep(0)
        fate = fates[batch.number - 1]
        if fate == "refused":
            raise ModelArtsServerError(status=500)
        if fate == "rejected":
            raise ModelArtsValidationError(status=400, error_code="ModelArts.4656")
        return [ItemResult(Outcome.DONE)]

    def run() -> None:
        asyncio.run(
            run_batches(
                _numbered(len(fates)),
                send,
                max_concurrency=1,
                on_done=lambda b, r: None,
                refusal_budget=budget,
            )
        )

    refused = [fate == "refused" for fate in fates]
    in_a_row, stop = 0, None
    for index, flag in enumerate(refused):
        in_a_row = in_a_row + 1 if flag else 0
        if in_a_row == budget:
            stop = index + 1
            break
    if stop is None:
        run()
        assert sent == list(range(1, len(refused) + 1))
    else:
        with pytest.raises(ModelArtsServiceRefusingError):
            run()
        assert sent == list(range(1, stop + 1))


def test_the_controller_hears_a_throttled_failure_and_each_answer_with_its_latency_per_item() -> None:
    now = 0.0
    throttled = 0

    async def send(batch: Batch[int]) -> list[ItemResult]:
        nonlocal now, throttled
        now += 0.25 * len(batch)  # a quarter of a second per item
        if batch.number == 2:
            throttled += 1  # the client met 429s for this batch until its retries ran out
            raise ModelArtsThrottledError(status=429, error_code="ModelArts.6101")
        return [ItemResult(Outcome.DONE)] * len(batch)

    limit = AdaptiveLimit(maximum=8, start=1, window=1)
    # Batches of 1, 2, 3 and 4 items; the second throttled, the third sent before the back-off (not read).
    batches = [Batch(i + 1, [0] * (i + 1), [ItemRef(j, None) for j in range(i + 1)]) for i in range(4)]
    asyncio.run(
        run_batches(
            batches,
            send,
            on_done=lambda b, r: None,
            limit=limit,
            throttle_count=lambda: throttled,
            clock=lambda: now,
        )
    )
    assert limit.throttled_at == 2.0 and limit.decreases == 1  # the throttled failure backed off
    assert list(limit.windows) == [0.25, 0.25]  # batches of 1 and 4 items: the same latency per item


def test_a_request_refused_as_sent_is_no_refusal_of_service_and_the_run_goes_on() -> None:
    sent: list[int] = []

    async def send(batch: Batch[int]) -> list[ItemResult]:
        sent.append(batch.number)
        raise ModelArtsValidationError(status=400, error_code="ModelArts.4656")

    results: list[ItemResult] = []
    asyncio.run(run_batches(_numbered(30), send, max_concurrency=3, on_done=lambda b, r: results.extend(r)))
    assert sorted(sent) == list(range(1, 31)) and {r.error_code for r in results} == {"ModelArts.4656"}


def test_the_refusing_error_survives_pickling_with_its_counts() -> None:
    error = ModelArtsServiceRefusingError(refused=8, last_error="POST /x failed with HTTP 503.")
    counted = error.with_counts(applied=6, failed=16, not_sent=18)
    assert str(error) == (
        "the service throttled or failed 8 batches in a row, so the run stopped sending "
        "(last error: POST /x failed with HTTP 503)."
    )
    assert str(counted) == (
        "the service throttled or failed 8 batches in a row, so the run stopped sending: 6 items applied, "
        "16 failed, 18 not sent (last error: POST /x failed with HTTP 503)."
    )
    copy = pickle.loads(pickle.dumps(counted))
    assert type(copy) is ModelArtsServiceRefusingError and str(copy) == str(counted)
    assert (copy.refused, copy.applied, copy.failed, copy.not_sent) == (8, 6, 16, 18)


# ------------------------------------------------------------------------- BulkOperation.run, the whole run

LOG = logging.getLogger("tests.unit.test_bulk_sending")


class _Client:
    """An async client as BulkOperation uses one: an async context manager counting its retries and the
    answers in which the service throttled."""

    def __init__(self) -> None:
        self.retry_count = 5  # retries made before this run: not this run's
        self.throttle_count = 2  # likewise
        self.entered = self.exited = 0

    async def __aenter__(self) -> _Client:
        self.entered += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.exited += 1


def _operation(
    send: Any, client: _Client, *, batch_size: int = 2, on_invalid: str = "fail", checks: Any = ()
) -> tuple[BulkOperation, list[str]]:
    targets: list[str] = []

    async def open_client() -> _Client:
        return client

    def target() -> str:
        targets.append("asked")
        return "dataset d1 (project p1)"

    validator = Validator(Sample, "name", list(checks))
    options = BulkOptions(batch_size, 1, 1 << 20, on_invalid)  # type: ignore[arg-type]
    operation = BulkOperation(validator, send, open_client, "added", "Adding", target, options, LOG)
    return operation, targets


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOG.name and r.levelno == level and not r.getMessage().startswith("batch ")
    ]


def test_a_run_validates_sends_and_summarises(caplog: pytest.LogCaptureFixture) -> None:
    client = _Client()
    sent: list[list[str | None]] = []

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        assert used is client and client.entered == 1 and client.exited == 0
        sent.append([ref.key for ref in batch.refs])
        used.retry_count += 1
        return [
            ItemResult(Outcome.FAILED, "E.1", "bad") if ref.key == "c.jpg" else ItemResult(Outcome.DONE)
            for ref in batch.refs
        ]

    operation, targets = _operation(send, client, checks=[DuplicateKeys("name")])
    samples = [{"name": f"{n}.jpg", "data": "aGk="} for n in "abcde"]
    before = time.monotonic()
    with caplog.at_level(logging.INFO):
        result = operation.run(ListSource(samples), dataset_id="d1")
    took = time.monotonic() - before
    assert sent == [["a.jpg", "b.jpg"], ["c.jpg", "d.jpg"], ["e.jpg"]]
    assert client.exited == 1 and targets == ["asked"]
    duration = result.pop("duration_seconds")
    assert 0 <= duration <= took + 0.001
    assert result == {
        "dataset_id": "d1",
        "source": "samples list (5 items)",
        "total": 5,
        "added": 4,
        "already_present": 0,
        "failed": 1,
        "invalid": 0,
        "failures": [{"name": "c.jpg", "index": 2, "error_code": "E.1", "error_msg": "bad"}],
        "failures_truncated": 0,
        "failure_codes": {"E.1": 1},
        "invalid_samples": [],
        "invalid_truncated": 0,
        "batches": 3,
        "retries": 3,  # this run's retries only
        "throttled": 0,  # likewise
        "peak_concurrency": 1,
    }
    info = _messages(caplog, logging.INFO)
    assert info[0] == (
        "Adding 5 samples from samples list (5 items) to dataset d1 (project p1) in 3 batches of up to 2, "
        "1 requests at a time to start, adapting up to 1"
    )
    assert info[-1].startswith("Finished: 4 added, 0 already present, 1 failed of 5 samples in 3 batches, ")
    assert info[-1].endswith(" s, 3 retried requests, up to 1 at a time")
    assert _messages(caplog, logging.WARNING) == ["1 of 5 samples failed:\n  #2 ('c.jpg'): E.1: bad"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []  # from any logger
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("batch ")]
    assert len(progress) == 3 and progress[1].startswith(
        "batch 2/3: 2 samples (1 failed, samples #2-#3), 4/5 done"
    )


def test_a_run_with_nothing_valid_to_send_opens_no_client(caplog: pytest.LogCaptureFixture) -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        raise AssertionError("nothing may be sent")

    operation, targets = _operation(send, client, on_invalid="skip")
    with caplog.at_level(logging.INFO, logger=LOG.name):
        result = operation.run(ListSource([{"name": 7}]), dataset_id="d1")
    assert client.entered == 0 and targets == []
    assert (result["source"], result["total"], result["invalid"], result["added"]) == (
        "samples list (1 items)",
        1,
        1,
        0,
    )
    assert result["invalid_samples"][0]["index"] == 0
    assert "Nothing to send: samples list (1 items) holds no valid samples." in _messages(
        caplog, logging.WARNING
    )


def test_invalid_samples_refuse_the_whole_run_before_anything_is_sent() -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        raise AssertionError("nothing may be sent")

    operation, targets = _operation(send, client)
    with pytest.raises(RunRefused, match="are invalid"):
        operation.run(ListSource([{"name": "a.jpg"}, {"name": 7}]))
    assert client.entered == 0 and targets == []


def test_an_unreadable_source_refuses_the_run_with_its_reason(tmp_path: Path) -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        raise AssertionError("nothing may be sent")

    operation, _ = _operation(send, client)
    unreadable = tmp_path / "m.json"
    unreadable.write_text('"just a string"')
    with pytest.raises(RunRefused) as info:
        operation.run(ManifestSource(unreadable))
    assert str(info.value).startswith(f"manifest {unreadable} must be a JSON array of sample objects")
    assert client.entered == 0


def test_a_missing_source_is_not_refused_but_not_there_retryably(tmp_path: Path) -> None:
    """A manifest that is not there may still arrive (or be on another machine): not a refusal for good."""
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        raise AssertionError("nothing may be sent")

    operation, _ = _operation(send, client)
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(SourceNotFoundError) as info:
        operation.run(ManifestSource(missing))
    assert str(info.value).startswith(f"manifest {missing} does not exist or is not a file on host ")
    assert info.value.is_transient and not isinstance(info.value, RunRefused)
    assert client.entered == 0


def test_a_fatal_error_stops_the_run_and_logs_how_far_it_got(caplog: pytest.LogCaptureFixture) -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        if batch.number == 2:
            raise ModelArtsAuthError(status=401, error_code="APIGW.0301")
        return [ItemResult(Outcome.DONE)] * len(batch)

    operation, _ = _operation(send, client)
    samples = [{"name": f"{n}.jpg", "data": "aGk="} for n in "abcde"]
    with caplog.at_level(logging.INFO, logger=LOG.name), pytest.raises(ModelArtsAuthError):
        operation.run(ListSource(samples))
    errors = _messages(caplog, logging.ERROR)
    assert len(errors) == 1
    assert errors[0].startswith(
        "Stopped early: 2 added, 0 already present, 0 failed of 5 samples in 1 batches, "
    )
    assert client.exited == 1


def test_a_run_against_a_service_that_starts_refusing_names_what_was_and_was_not_applied(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = _Client()
    sent: Counter[int] = Counter()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        sent[batch.number] += 1
        if batch.number <= 3:
            return [ItemResult(Outcome.DONE), ItemResult(Outcome.ALREADY_PRESENT, "ModelArts.4422")]
        raise ModelArtsServerError(status=503, error_code="ModelArts.4302", method="POST", path="/samples")

    operation, _ = _operation(send, client)  # 2 samples a batch, one request at a time
    samples = [{"name": f"s{i:02d}.jpg", "data": "aGk="} for i in range(40)]
    with caplog.at_level(logging.INFO, logger=LOG.name), pytest.raises(ModelArtsServiceRefusingError) as info:
        operation.run(ListSource(samples))
    assert sent == Counter(range(1, 4 + REFUSAL_BUDGET))  # 3 answered, 8 refused, each sent once
    error = info.value
    assert (error.applied, error.failed, error.not_sent) == (6, 16, 18)
    assert str(error).startswith(
        "the service throttled or failed 8 batches in a row, so the run stopped sending: 6 items applied, "
        "16 failed, 18 not sent (last error: POST /samples failed with HTTP 503 ModelArts.4302"
    )
    (stopped,) = _messages(caplog, logging.ERROR)
    assert stopped.startswith(
        "Stopped early: 3 added, 3 already present, 16 failed of 40 samples in 11 batches, 18 not sent, "
    )
    assert client.exited == 1


def test_the_run_hears_when_the_client_was_throttled_and_does_not_grow() -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        for _ in range(3):
            await asyncio.sleep(0)
        used.throttle_count += 1  # every request met a 429 before its retry went through
        return [ItemResult(Outcome.DONE)] * len(batch)

    validator = Validator(Sample, "name")
    operation = BulkOperation(
        validator, send, _opener(client), "added", "Adding", lambda: "d", BulkOptions(2, 8, 1 << 20)
    )
    result = operation.run(ListSource([{"name": f"t{i}.jpg"} for i in range(40)]))
    assert result["throttled"] == 20 and result["added"] == 40
    assert result["peak_concurrency"] == START  # never grew past where it started: each answer was throttled


def test_the_run_tells_its_controller_how_many_requests_it_will_send(monkeypatch: pytest.MonkeyPatch) -> None:
    """The controller does not probe the service's limit in the last rounds of a run: it must know the
    run's length, the batches planned while validating."""
    built: list[AdaptiveLimit] = []

    class Recorded(AdaptiveLimit):
        def __post_init__(self) -> None:
            super().__post_init__()
            built.append(self)

    monkeypatch.setattr("airflow_provider_modelarts.bulk.sending.AdaptiveLimit", Recorded)
    client, sent = _Client(), Counter[int]()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        sent[batch.number] += 1
        await asyncio.sleep(0)
        return [ItemResult(Outcome.DONE)] * len(batch)

    validator = Validator(Sample, "name")
    operation = BulkOperation(
        validator, send, _opener(client), "added", "Adding", lambda: "d", BulkOptions(3, 8, 1 << 20)
    )
    result = operation.run(ListSource([{"name": f"t{i}.jpg"} for i in range(40)]))
    assert result["added"] == 40 and len(sent) == 14  # 13 batches of 3 and one of 1
    assert [limit.requests for limit in built] == [14]  # one controller for the run, told its length


def _opener(client: _Client) -> Any:
    async def open_client() -> _Client:
        return client

    return open_client


def test_the_checks_add_their_figures_to_the_summary() -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        return [ItemResult(Outcome.DONE)] * len(batch)

    class Counted(SampleCheck):
        def summary(self) -> dict[str, Any]:
            return {"checked_by_test": 2}

    operation, _ = _operation(send, client, checks=[Counted()])
    result = operation.run(ListSource([{"name": "a.jpg", "data": "aGk="}]), dataset_id="d1")
    assert result["checked_by_test"] == 2 and result["added"] == 1


class _ChangingSource(Source):
    """A manifest edited between the validation pass and the sending pass (read twice, like a file)."""

    def __init__(self) -> None:
        self.passes = 0

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        self.passes += 1
        yield 0, {"name": "a.jpg", "data": "aGk="}
        yield 1, {"name": "b.jpg", "data": "aGk="} if self.passes == 1 else {"name": 7}

    def describe(self) -> str:
        return "manifest being edited"


def test_a_sample_that_changed_since_validation_is_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    client = _Client()
    sent: list[str | None] = []

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        sent.extend(ref.key for ref in batch.refs)
        return [ItemResult(Outcome.DONE)] * len(batch)

    operation, _ = _operation(send, client)
    source = _ChangingSource()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        result = operation.run(source)
    assert source.passes == 2 and sent == ["a.jpg"]
    assert (result["added"], result["invalid"], result["invalid_samples"][0]["index"]) == (1, 1, 1)
    assert "Sample #1 changed since validation and is now invalid; not sent." in _messages(
        caplog, logging.WARNING
    )


def test_the_failure_warning_says_how_many_failures_it_does_not_list(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        return [ItemResult(Outcome.FAILED, "E.1", "bad")] * len(batch)

    operation, _ = _operation(send, client, batch_size=60)
    samples = [{"name": f"{i}.jpg", "data": "aGk="} for i in range(103)]
    with caplog.at_level(logging.INFO, logger=LOG.name):
        result = operation.run(ListSource(samples))
    assert result["failed"] == 103 and len(result["failures"]) == 100 and result["failures_truncated"] == 3
    (warning,) = _messages(caplog, logging.WARNING)
    assert warning.startswith("103 of 103 samples failed:\n  #0 ('0.jpg'): E.1: bad\n")
    assert warning.endswith("\n  #99 ('99.jpg'): E.1: bad\n  ... and 3 more")


def test_a_pinned_concurrency_says_so_and_sends_exactly_that_many(caplog: pytest.LogCaptureFixture) -> None:
    client = _Client()

    async def send(used: _Client, batch: Batch[Any]) -> list[ItemResult]:
        return [ItemResult(Outcome.DONE)] * len(batch)

    operation, _ = _operation(send, client)
    operation.options = operation.options.replace(adaptive_concurrency=False)
    with caplog.at_level(logging.INFO, logger=LOG.name):
        result = operation.run(ListSource([{"name": f"s{i}.jpg"} for i in range(5)]), dataset_id="d1")
    assert result["added"] == 5 and result["peak_concurrency"] == 1
    assert _messages(caplog, logging.INFO)[0].endswith("in 3 batches of up to 2, 1 requests at a time")
