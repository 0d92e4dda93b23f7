"""Running a bulk operation: validate everything, then send batches concurrently from one event loop.

:func:`run_batches` sends batches with at most ``max_concurrency`` requests in flight. The next batch is built
only once a slot is free, so at most ``max_concurrency + 1`` batches exist in memory at any time whatever the
input size (backpressure by construction, no unbounded queue). One event loop with an async HTTP client costs
less per request than a thread pool and needs no locks around the tally.

When a run stops, and why:

* a batch whose request fails after the client's retries is recorded as failed and the run goes on;
* an error every other batch would meet too (bad credentials, unknown dataset: :func:`batch_failure`), or
  any exception raised while a finished batch is recorded, is fatal: no further batch is started, the ones
  in flight finish and are recorded, then that exception is raised;
* a service that refuses everything: when :data:`REFUSAL_BUDGET` batches in a row (in the order they
  finish) failed with a transient error (throttled, server fault, no answer; each after the client's
  retries), no further batch is started, the ones in flight finish and are recorded, then
  :class:`~airflow_provider_modelarts.errors.ModelArtsServiceRefusingError` says how many items were
  applied, failed and not sent. Any batch the service answered, or failed for another reason, resets the
  count. A batch is sent once (the client's retries aside); those never started are not recorded.

:class:`BulkOperation` is the whole run. It is composed, not subclassed: the caller (``ModelArtsHook``) passes
the validator with its checks, the coroutine that sends one batch (where the ModelArts idempotency rules
live), and the client factory. Nothing here imports Airflow.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from pydantic_core import PydanticSerializationError

from airflow_provider_modelarts._text import shorten
from airflow_provider_modelarts.bulk.checks import RunRefused
from airflow_provider_modelarts.bulk.concurrency import AdaptiveLimit, FixedLimit
from airflow_provider_modelarts.bulk.planning import Batch, BatchPlanner, BulkOptions, make_batches
from airflow_provider_modelarts.bulk.sources import Source
from airflow_provider_modelarts.bulk.tally import BulkTally, ItemResult, Outcome, log_lines
from airflow_provider_modelarts.bulk.validation import ValidationReport, Validator
from airflow_provider_modelarts.errors import (
    ITEM_LEVEL_CODES,
    ModelArtsAPIError,
    ModelArtsAuthError,
    ModelArtsConfigError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsServiceRefusingError,
    ModelArtsTransportError,
)

__all__ = ["REFUSAL_BUDGET", "BulkOperation", "ConcurrencyLimit", "batch_failure", "run_batches"]

T = TypeVar("T")
#: What :func:`run_batches` asks how many requests may be in flight.
ConcurrencyLimit = FixedLimit | AdaptiveLimit
#: Batches in a row failing with a transient error after which a run stops (see the module docstring).
#: Each has already been retried by the client (6 attempts by default), and a run starts 4 at a time.
REFUSAL_BUDGET = 8


def batch_failure(exc: BaseException) -> ItemResult | None:
    """The result recorded for each item of a batch whose request failed, or None to stop the run.

    The exception classes of :mod:`airflow_provider_modelarts.errors` decide: bad credentials or
    configuration, and a missing project / dataset / task, fail every other batch too, so the run stops;
    any other service or transport error (after the client's retries) fails only this batch.
    """
    if isinstance(exc, (ModelArtsAuthError, ModelArtsConfigError)):
        return None
    if isinstance(exc, ModelArtsNotFoundError) and exc.error_code not in ITEM_LEVEL_CODES:
        return None
    if isinstance(exc, ModelArtsAPIError):
        return ItemResult(Outcome.FAILED, exc.error_code or f"HTTP {exc.status}", exc.error_msg or str(exc))
    if isinstance(exc, ModelArtsTransportError):
        return ItemResult(Outcome.FAILED, "transport_error", str(exc))
    if isinstance(exc, ModelArtsError):
        return ItemResult(Outcome.FAILED, type(exc).__name__, str(exc))
    if isinstance(exc, PydanticSerializationError):  # a manifest changed between the passes: fail the batch
        return ItemResult(Outcome.FAILED, "unsendable", shorten(str(exc).partition("\n")[0], 160))
    return None


async def run_batches(
    batches: Iterable[Batch[T]],
    send: Callable[[Batch[T]], Awaitable[list[ItemResult]]],
    *,
    max_concurrency: int | None = None,
    on_done: Callable[[Batch[T], list[ItemResult]], None],
    classify_error: Callable[[BaseException], ItemResult | None] = batch_failure,
    limit: ConcurrencyLimit | None = None,
    throttle_count: Callable[[], int] = lambda: 0,
    clock: Callable[[], float] = time.monotonic,
    refusal_budget: int = REFUSAL_BUDGET,
) -> int:
    """Send every batch with at most ``limit.current`` in flight; returns the highest concurrency reached.

    ``limit`` is a :class:`~.concurrency.FixedLimit` (``max_concurrency``, the default) or an
    :class:`~.concurrency.AdaptiveLimit`; it hears of each answer: its latency (``clock``; none for a
    failed request), whether the service throttled it meanwhile (``throttle_count``, the client's count of
    throttled answers, grew) and its size in items.

    A failing request does not stop the run: ``classify_error`` turns the exception into the result recorded
    for each item of that batch. When it returns ``None`` the error is fatal; so is an exception raised by
    ``on_done``; ``refusal_budget`` transient failures in a row stop the run too (see the module docstring).
    """
    if limit is None:
        if max_concurrency is None or max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        limit = FixedLimit(max_concurrency)
    if refusal_budget < 1:
        raise ValueError(f"refusal_budget must be at least 1, got {refusal_budget}")
    in_flight: set[asyncio.Task[None]] = set()
    fatal: list[BaseException] = []
    # Sends started and not finished. Not len(in_flight): a finished task leaves that set only when its done
    # callback runs, which can be after the next batch took its slot.
    sending = peak = refused = 0
    slot_freed = asyncio.Event()

    def refusal(exc: BaseException) -> None:
        nonlocal refused
        if not (isinstance(exc, ModelArtsError) and exc.is_transient):
            refused = 0
            return
        refused += 1
        if refused == refusal_budget:
            fatal.append(ModelArtsServiceRefusingError(refused=refused, last_error=str(exc)))

    async def one(batch: Batch[T], ticket: int) -> None:
        nonlocal sending, refused
        throttled_before, started = throttle_count(), clock()
        try:
            try:
                results = await send(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                item = classify_error(exc)
                if item is None:
                    fatal.append(exc)
                    return
                refusal(exc)
                limit.finished(ticket, latency=None, throttled=throttle_count() > throttled_before)
                results = [item] * len(batch)
            else:
                refused = 0
                throttled = throttle_count() > throttled_before
                limit.finished(ticket, latency=clock() - started, throttled=throttled, size=len(batch))
            on_done(batch, results)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recording failed: the run must not go on as if the batch were done
            fatal.append(exc)
        finally:
            sending -= 1
            slot_freed.set()

    try:
        for batch in batches:
            while sending >= limit.current and not fatal:
                slot_freed.clear()
                await slot_freed.wait()
            if fatal:
                break
            task = asyncio.create_task(one(batch, limit.started()))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            sending += 1
            peak = max(peak, sending)
        if in_flight:
            await asyncio.gather(*in_flight)
    except BaseException:
        for task in in_flight:
            task.cancel()
        raise
    if fatal:
        raise fatal[0]
    return peak


@dataclass
class BulkOperation:
    """One bulk run (add samples, update labels): validate-first, then send, then summarise.

    :param validator: parses samples and applies the run's checks (duplicates, deletion guard, ...).
    :param send: sends one batch with an open client and maps the answer to one result per item.
    :param open_client: returns a new async client (an async context manager with ``retry_count`` and
        ``throttle_count``).
    :param done_key: summary key of the items the service applied (``added`` / ``updated``).
    :param verb: start of the log line announcing the sending (``Adding`` / ``Updating labels of``).
    :param target: where the samples go, for that line (``dataset d1 (project p1)``); called only once
        the input passed validation, so a refused run never needs the connection.
    :param options: the run's :class:`~.planning.BulkOptions` (batch sizes, concurrency, ``on_invalid``).
    :param log: where progress and problems go (a ``logging.Logger`` or a hook's / task's ``log``).
    """

    validator: Validator
    send: Callable[[Any, Batch[Any]], Awaitable[list[ItemResult]]]
    open_client: Callable[[], Awaitable[Any]]
    done_key: str
    verb: str
    target: Callable[[], str]
    options: BulkOptions = field(default_factory=BulkOptions)
    log: Any = field(default_factory=lambda: logging.getLogger(__name__))  # or Airflow's structlog logger

    def run(self, source: Source, **ids: Any) -> dict[str, Any]:
        """Validate, send and return the summary (``ids`` first, then the counts); see the README for keys.

        Raises :class:`RunRefused` before anything is sent when the input is refused; a fatal service
        error (see :func:`batch_failure`) propagates after the batches in flight finished. Items the service
        rejected are counted in the summary, never raised: the caller decides whether they fail the task.
        """
        log = self.log
        tally = BulkTally(done_key=self.done_key, key_field=self.validator.key_field)
        try:
            report = self.validator.validate(source, tally, self._planner())
        except RunRefused:
            raise
        except ValueError as exc:  # ManifestError and friends: the source as a whole is unreadable
            raise RunRefused(str(exc)) from exc
        tally = report.tally
        self.validator.conclude(report, on_invalid=self.options.on_invalid, log=log)
        ids = {**ids, "source": source.describe()}
        if tally.to_send == 0:
            log.warning("Nothing to send: %s holds no valid samples.", source.describe())
            return self._summary(tally, ids)
        limit = self._limit(tally.planned_batches)
        log.info(
            "%s %s %s from %s to %s in %s batches of up to %s, %s",
            self.verb,
            f"{tally.to_send:,}",
            tally.noun,
            source.describe(),
            self.target(),
            f"{tally.planned_batches:,}",
            self.options.batch_size,
            limit.describe(),
        )
        try:
            # execute() is synchronous and Airflow runs it outside any event loop; async_to_sync gives the
            # sending its own loop (and says so clearly if someone calls it from inside a running loop).
            async_to_sync(self._send_all)(source, report, limit)
        except ModelArtsServiceRefusingError as exc:
            log.error("Stopped early: %s", tally.summary_line())
            applied = tally.done + tally.already_present
            raise exc.with_counts(applied=applied, failed=tally.failed, not_sent=tally.not_sent) from None
        except Exception:
            log.error("Stopped early: %s", tally.summary_line())
            raise
        log.info("Finished: %s", tally.summary_line())
        if tally.failed:
            lines = tally.failure_lines()
            header = f"{tally.failed:,} of {tally.to_send:,} {tally.noun} failed:"
            log_lines(log, logging.WARNING, header, lines, tally.failed - len(lines))
        return self._summary(tally, ids)

    def _limit(self, requests: int) -> ConcurrencyLimit:
        """The run's concurrency; an adaptive one knows how many requests the run sends (``requests``)."""
        if self.options.adaptive_concurrency:
            return AdaptiveLimit(self.options.max_concurrency, requests=requests)
        return FixedLimit(self.options.max_concurrency)

    def _planner(self) -> BatchPlanner:
        return BatchPlanner(self.options.batch_size, self.options.max_batch_bytes)

    def _summary(self, tally: BulkTally, ids: dict[str, Any]) -> dict[str, Any]:
        for check in self.validator.checks:
            ids.update(check.summary())
        return tally.as_result(**ids)

    async def _send_all(self, source: Source, report: ValidationReport, limit: ConcurrencyLimit) -> None:
        tally = report.tally
        client = await self.open_client()
        async with client:
            retries_before = client.retry_count

            async def send(batch: Batch[Any]) -> list[ItemResult]:
                return await self.send(client, batch)

            def on_done(batch: Batch[Any], results: list[ItemResult]) -> None:
                failed = tally.add_batch(batch, results)
                self.log.info(tally.progress_line(batch, failed))

            throttled_before = client.throttle_count
            tally.start_clock()
            try:
                batches = make_batches(self.validator.items(source, report, self.log), self._planner())
                tally.peak_concurrency = await run_batches(
                    batches,
                    send,
                    on_done=on_done,
                    limit=limit,
                    throttle_count=lambda: client.throttle_count,
                )
            finally:
                tally.retries = client.retry_count - retries_before
                tally.throttled = client.throttle_count - throttled_before
                tally.elapsed = tally.elapsed_since_start()
