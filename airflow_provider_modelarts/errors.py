"""Exceptions raised by the ModelArts client.

Every failure the provider raises derives from :class:`ModelArtsError`, so callers (operators, sensors, user
code) can catch one root. HTTP failures are split by what the caller can do about them: fix credentials
(:class:`ModelArtsAuthError`), fix the ids (:class:`ModelArtsNotFoundError`), fix the request
(:class:`ModelArtsValidationError`), or wait (:class:`ModelArtsThrottledError`,
:class:`ModelArtsServerError`). ``error.is_transient`` is the one answer to "will waiting help?": the client's
retry predicate, the sensor and the bulk senders all ask it instead of looking at codes themselves. Input
refused before anything is sent (:class:`ModelArtsConfigError`, ``SampleValidationError``, ``RunRefused``,
``ManifestError``) is also a ``ValueError``; an unreadable 2xx answer is a :class:`ResponseParseError`.

The HTTP status decides first (:func:`classify`), because the error-code table reuses codes across statuses
(``ModelArts.4700`` is "Task does not exist" at 400 and "Unavailable gateway" at 503):

* 5xx (and 408, the gateway's "backend timed out") is a server fault whatever the code: transient.
* 429, or ``ModelArts.6101`` ("system is busy") at any 4xx: throttling, transient.
* 401 / 403: credentials or permissions.
* 404, or a "does not exist" code (:data:`RESOURCE_MISSING_CODES`) at any other 4xx: not found.
* Any other 4xx: the request was refused as sent.
* A status below 400 that still reaches the mapping (a redirect, an informational row of the table) is a
  plain :class:`ModelArtsAPIError`: nothing is known about it, so it is not transient.

Every exception the provider raises, and the module that defines it (import it from there; ``models``
re-exports ``SampleValidationError``)::

    ModelArtsError                              errors
    +-- ModelArtsConfigError (ValueError)       errors
    +-- ModelArtsAPIError                       errors: the service answered with an error status
    |   +-- ModelArtsAuthError, ModelArtsNotFoundError, ModelArtsThrottledError,
    |       ModelArtsServerError, ModelArtsValidationError          errors
    +-- ModelArtsTransportError, ResponseParseError                errors
    +-- IncompleteListError, ModelArtsServiceRefusingError         errors
    +-- refused before any request (all ValueError): SampleValidationError (_models._parse),
    |   ManifestError (bulk.sources), RunRefused (bulk.checks), ExportArgumentError (export),
    |   AssetUriError (assets)
    +-- AmbiguousTeamTaskError, TeamTaskNotListedError, TeamTaskNameTakenError,
    |   UnadoptableTeamTaskError, TeamTaskNotStartedError          team_tasks
    +-- AcceptanceNotDecidableError                                acceptance.decision
    +-- AmbiguousImportTaskError, ImportBusyError, ImportNotListedError   import_tasks.adoption
    +-- SourceNotFoundError (FileNotFoundError; transient: a bulk run's manifest or files are not
        on this host yet)                                          bulk.places

Messages are built only from the method, the URL path, the status and the service's ``error_code`` /
``error_msg``. Request headers, query strings and bodies never reach them, so credentials (AK/SK signatures,
security tokens, IAM tokens, passwords) cannot leak into task logs through an exception.
"""

from __future__ import annotations

from typing import Any

import httpx

from airflow_provider_modelarts._error_answers import parse_retry_after, read_error_body, request_id
from airflow_provider_modelarts._error_answers import retry_after as answer_retry_after
from airflow_provider_modelarts._error_codes import (  # re-exported: the codes' public names
    DATASET_BUSY_CODES,
    DATASET_MISSING,
    IMPORT_RUNNING,
    IMPORT_TASK_MISSING_CODES,
    ITEM_LEVEL_CODES,
    RESOURCE_MISSING_CODES,
    SAMPLE_EXISTS,
    STEP_REPEAT_CODES,
    TASK_IS_CHECKING,
    TEAM_TASK_CREATES_THROTTLED,
    TEAM_TASK_EXISTS,
    TEAM_TASK_MISSING,
    TEAM_TASK_NOT_STARTABLE,
    THROTTLING,
    TOKEN_EXPIRY_CODES,
)
from airflow_provider_modelarts._error_hints import code_hint
from airflow_provider_modelarts._error_hints import hint as _hint

__all__ = [
    "DATASET_BUSY_CODES",
    "DATASET_MISSING",
    "IMPORT_RUNNING",
    "IMPORT_TASK_MISSING_CODES",
    "ITEM_LEVEL_CODES",
    "RESOURCE_MISSING_CODES",
    "SAMPLE_EXISTS",
    "STEP_REPEAT_CODES",
    "TASK_IS_CHECKING",
    "TEAM_TASK_CREATES_THROTTLED",
    "TEAM_TASK_EXISTS",
    "TEAM_TASK_MISSING",
    "TEAM_TASK_NOT_STARTABLE",
    "THROTTLING",
    "TOKEN_EXPIRY_CODES",
    "IncompleteListError",
    "ModelArtsAPIError",
    "ModelArtsAuthError",
    "ModelArtsConfigError",
    "ModelArtsError",
    "ModelArtsNotFoundError",
    "ModelArtsServerError",
    "ModelArtsServiceRefusingError",
    "ModelArtsThrottledError",
    "ModelArtsTransportError",
    "ModelArtsValidationError",
    "ResponseParseError",
    "classify",
    "code_hint",
    "error_from_response",
    "parse_retry_after",
]


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


def classify(status: int, error_code: str | None) -> type[ModelArtsAPIError]:
    """The exception class for an error answer: the HTTP status first, the code only within 4xx.

    See the module docstring for the rules; :func:`error_from_response` uses this, and the tests run it over
    every row of the service's error-code table.
    """
    if status >= 500 or status == 408:
        return ModelArtsServerError
    if status < 400:
        return ModelArtsAPIError
    if status == 429 or error_code == THROTTLING:
        return ModelArtsThrottledError
    if status in (401, 403):
        return ModelArtsAuthError
    if status == 404 or error_code in RESOURCE_MISSING_CODES:
        return ModelArtsNotFoundError
    return ModelArtsValidationError


def error_from_response(response: httpx.Response) -> ModelArtsAPIError:
    """Map an error response to the matching exception (the caller decides whether to raise or retry).

    The class comes from :func:`classify`. Only the URL path is kept, never the query string: some deployments
    pass tokens in queries, and the path is what identifies the resource.
    """
    status = response.status_code
    error_code, error_msg = read_error_body(response)
    method: str | None = None
    path: str | None = None
    try:
        request = response.request
    except RuntimeError:  # a Response built without a request (tests, custom transports)
        request = None
    if request is not None:
        method = request.method
        path = request.url.path
    return classify(status, error_code)(
        status=status,
        error_code=error_code,
        error_msg=error_msg,
        request_id=request_id(response),
        method=method,
        path=path,
        hint=_hint(status, error_code),
        retry_after=answer_retry_after(response),
    )
