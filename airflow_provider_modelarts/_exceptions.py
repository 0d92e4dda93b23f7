"""The exception classes of the ModelArts client; import them from :mod:`airflow_provider_modelarts.errors`.

``errors`` is the one public place for them and holds what decides which one an answer becomes (the error
codes, the hints, :func:`~airflow_provider_modelarts.errors.classify`). The classes are defined here so that
``errors`` stays one readable module: they need no code and no hint table of their own (an API error's
``hint`` is handed in by ``errors.error_from_response``), so this module imports nothing from the package and
``errors`` imports it without a cycle. The classes built from keyword arguments pickle through their
``__reduce__`` (:func:`_rebuild`): Airflow and multiprocessing ship exceptions between processes.
"""

from __future__ import annotations

from typing import Any

import httpx


class ModelArtsError(Exception):
    """Root of every exception this provider raises."""

    @property
    def is_transient(self) -> bool:
        """Whether the same call may succeed later unchanged (so: retry, poll again, keep the run going)."""
        return False


class ModelArtsConfigError(ModelArtsError, ValueError):
    """The connection or client configuration is incomplete or contradictory (nothing was sent)."""


class ModelArtsAPIError(ModelArtsError):
    """The service answered with an error status.

    The attributes keep the raw facts (``status``, ``error_code``, ``error_msg``, ``request_id``, ``method``,
    ``path``) so callers can branch on them; ``str()`` is one sentence meant for a task log, including the
    request id because that is what Huawei Cloud support asks for.
    """

    def __init__(
        self,
        *,
        status: int,
        error_code: str | None = None,
        error_msg: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.method = method
        self.path = path
        self.hint = hint
        #: Seconds the service asked us to wait (``Retry-After``), whatever the status (503 sends it too).
        self.retry_after = retry_after
        super().__init__(self._format())

    def _format(self) -> str:
        target = " ".join(part for part in (self.method, self.path) if part) or "ModelArts request"
        text = f"{target} failed with HTTP {self.status}"
        if self.error_code:
            text += f" {self.error_code}"
        if self.error_msg:
            text += f": {self.error_msg.rstrip('. ')}"
        if self.hint:
            text += f"; {self.hint}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text + "."

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__ breaks default exception pickling, which Airflow and multiprocessing rely on.
        return (_rebuild, (type(self), self._state()))

    def _state(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "hint": self.hint,
            "retry_after": self.retry_after,
        }


def _rebuild(cls: type[Any], state: dict[str, Any]) -> Any:
    return cls(**state)


def _keywords(error: Exception, *names: str) -> tuple[Any, ...]:
    """``__reduce__`` of an exception built from keyword arguments named like its attributes."""
    return (_rebuild, (type(error), {name: getattr(error, name) for name in names}))


class ModelArtsAuthError(ModelArtsAPIError):
    """401/403, or an IAM token could not be obtained: retrying will not help until credentials change."""


class ModelArtsNotFoundError(ModelArtsAPIError):
    """404: the project, dataset, task or sample does not exist (or the endpoint is for another region)."""


class ModelArtsThrottledError(ModelArtsAPIError):
    """429 / ``ModelArts.6101``: the service asked us to slow down; ``retry_after`` is in seconds, if sent."""

    @property
    def is_transient(self) -> bool:
        return True


class ModelArtsServerError(ModelArtsAPIError):
    """5xx (or 408): a fault on the service side, whatever the error code says; transient."""

    @property
    def is_transient(self) -> bool:
        return True


class ModelArtsValidationError(ModelArtsAPIError):
    """400 and other 4xx: the service rejected the request as sent; fix the input rather than retry."""


class ModelArtsTransportError(ModelArtsError):
    """The request never got an HTTP answer (DNS, connect, TLS, timeout), even after retries."""

    def __init__(self, *, method: str, path: str, cause: BaseException, attempts: int = 1) -> None:
        self.method = method
        self.path = path
        self.cause = cause
        self.attempts = attempts
        # The cause's class name and text are enough to diagnose; httpx does not put headers in them.
        detail = str(cause).rstrip(". ") or "no detail"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(
            f"{method} {path} failed without an HTTP response{tries}: {type(cause).__name__}: {detail}."
        )

    @property
    def is_transient(self) -> bool:
        # A URL with an unsupported scheme fails the same way every time; anything else (DNS, connect, TLS,
        # timeouts, dropped connections) may work on the next attempt.
        return not isinstance(self.cause, httpx.UnsupportedProtocol)

    def __reduce__(self) -> tuple[Any, ...]:
        return _keywords(self, "method", "path", "cause", "attempts")


class ModelArtsServiceRefusingError(ModelArtsError):
    """A bulk run stopped early: ``refused`` batches in a row failed with a transient error (throttled,
    server fault, no answer) after the client's retries each, so no further batch was sent. Transient: the
    run may succeed later. ``applied`` / ``failed`` / ``not_sent`` count the items, once the run knows them.
    """

    def __init__(
        self,
        *,
        refused: int,
        last_error: str,
        applied: int | None = None,
        failed: int | None = None,
        not_sent: int | None = None,
    ) -> None:
        self.refused, self.last_error = refused, last_error
        self.applied, self.failed, self.not_sent = applied, failed, not_sent
        text = f"the service throttled or failed {refused} batches in a row, so the run stopped sending"
        if applied is not None and failed is not None and not_sent is not None:
            text += f": {applied:,} items applied, {failed:,} failed, {not_sent:,} not sent"
        super().__init__(f"{text} (last error: {last_error.rstrip('. ')}).")

    @property
    def is_transient(self) -> bool:
        return True

    def with_counts(self, *, applied: int, failed: int, not_sent: int) -> ModelArtsServiceRefusingError:
        counts = {"applied": applied, "failed": failed, "not_sent": not_sent}
        return type(self)(refused=self.refused, last_error=self.last_error, **counts)

    def __reduce__(self) -> tuple[Any, ...]:
        return _keywords(self, "refused", "last_error", "applied", "failed", "not_sent")


class IncompleteListError(ModelArtsError):
    """A walk over a service list could not prove it saw every item (``client/_paging.py`` states when it
    can): the list kept changing, or its pages and its count disagree. Transient: a later walk may find the
    list quiet. The message names the distinct items seen, the counts the pages reported, the pages read."""

    def __init__(
        self, *, what: str, reason: str, distinct: int, counts: tuple[int, ...], pages: int, passes: int
    ) -> None:
        self.what, self.reason, self.distinct = what, reason, distinct
        self.counts, self.pages, self.passes = counts, pages, passes
        shown = ", ".join(map(str, counts))
        if len(counts) > 6:
            shown = f"{', '.join(map(str, counts[:3]))}, ..., {counts[-1]} ({len(counts)} different)"
        super().__init__(
            f"{what}: could not prove every item was read ({reason}): {distinct} distinct items seen, "
            f"counts reported: {shown or 'none'}, {pages} pages read in {passes} passes."
        )

    @property
    def is_transient(self) -> bool:
        return True

    def __reduce__(self) -> tuple[Any, ...]:
        return _keywords(self, "what", "reason", "distinct", "counts", "pages", "passes")


class ResponseParseError(ModelArtsError):
    """A read's 2xx answer is not the documented JSON at all (wrong endpoint, a proxy's login page, ...)."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = raw  # the body; never in the message (it may echo sample data)
