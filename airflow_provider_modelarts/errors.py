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

The service's error codes the provider reacts to are named here, each once (rows of the error-code table,
``../shared/spec/related/modelarts_error_codes.tsv``), with the hint a message adds for a code. What a code
makes the provider do otherwise lives where that is decided (a step repeated in ``retries``, an adoption in
``team_tasks``, ``import_tasks``, ``acceptance``); those modules import its name from here.

Every exception the provider raises, and the module that defines it: import it from there, except the classes
of the private ``_exceptions``, which this module re-exports (import them from here; ``models`` likewise
re-exports ``SampleValidationError``)::

    ModelArtsError                              _exceptions
    +-- ModelArtsConfigError (ValueError)       _exceptions
    +-- ModelArtsAPIError                       _exceptions: the service answered with an error status
    |   +-- ModelArtsAuthError, ModelArtsNotFoundError, ModelArtsThrottledError,
    |       ModelArtsServerError, ModelArtsValidationError          _exceptions
    +-- ModelArtsTransportError, ResponseParseError                _exceptions
    +-- IncompleteListError, ModelArtsServiceRefusingError         _exceptions
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

import httpx

from airflow_provider_modelarts._error_answers import parse_retry_after, read_error_body, request_id
from airflow_provider_modelarts._error_answers import retry_after as answer_retry_after
from airflow_provider_modelarts._exceptions import (  # re-exported: import them from here
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


# ----------------------------------------------------------------------------- the codes, each named once

#: 400 "Dataset does not exist".
DATASET_MISSING = "ModelArts.4352"
#: 400 "Workforce task does not exist": the only answer that means a team labeling task is gone (a delete
#: treats it as already done).
TEAM_TASK_MISSING = "ModelArts.4619"
#: 400 "The workforce task already exists" (a task of that ``task_name``).
TEAM_TASK_EXISTS = "ModelArts.4620"
#: 400 "Failed to start the team labeling task." ("The team labeling task cannot be started.").
TEAM_TASK_NOT_STARTABLE = "ModelArts.4621"
#: 429 "Too many dataset requests" (frequent dataset or labeling task creation): throttling, by its 429.
TEAM_TASK_CREATES_THROTTLED = "ModelArts.4395"
#: 400 "Workforce task is checking" ("Only one review task is allowed at a time."): the hook adopts the round.
TASK_IS_CHECKING = "ModelArts.4623"
#: 400 "Sample already exists": after a retried add, added by the earlier attempt (counted as done).
SAMPLE_EXISTS = "ModelArts.4422"
#: 400 "Sample not found" / "The worker does not exist": about one item of a batch, not about the call.
ITEM_LEVEL_CODES = frozenset({"ModelArts.4420", "ModelArts.4604"})
#: 401 token expired / invalid (4127, 4201, 0202, 6620): a new client re-reading the connection may fix it.
TOKEN_EXPIRY_CODES = frozenset({"ModelArts.4127", "ModelArts.4201", "ModelArts.0202", "ModelArts.6620"})
#: 4xx "System is busy": throttling at any 4xx status.
THROTTLING = "ModelArts.6101"
#: 400 "Dataset already has running import task" (one running import per dataset): the next list shows it.
IMPORT_RUNNING = "ModelArts.4356"
#: 400 dataset busy: 4343 publishing a version, 4349 switching versions, 4355 a synchronization task.
DATASET_BUSY_CODES = frozenset({"ModelArts.4343", "ModelArts.4349", "ModelArts.4355"})
#: "The task ID does not exist" (4612 / 4700 at 400, or 404): an import task that is gone.
IMPORT_TASK_MISSING_CODES = frozenset({"ModelArts.4612", "ModelArts.4700"})
#: The refusals after which a list-then-act step of a hook is repeated (``retries.is_worth_repeating_step``):
#: the next list shows what an earlier attempt (or another caller) did.
STEP_REPEAT_CODES = (TEAM_TASK_EXISTS, TEAM_TASK_NOT_STARTABLE, IMPORT_RUNNING)

# The error-code table files "does not exist" answers for labeling resources under HTTP 400 while the API
# pages list 404; at 400 or 404 they mean not found. At 5xx the same numbers are server faults (4700
# "Unavailable gateway" at 503, 4801 "Failed to obtain the consul" at 500): the status check comes first.
# 4301 labeling job, 4338 dataset or labeling task ID, 4353 dataset version, 4601 workforce (labeling team),
# 4612 / 4631 / 4636 / 4700 task, 4801 label task; the named ones above.
RESOURCE_MISSING_CODES: frozenset[str] = frozenset(
    {DATASET_MISSING, TEAM_TASK_MISSING, *ITEM_LEVEL_CODES}
    | {f"ModelArts.{n}" for n in (4301, 4338, 4353, 4601, 4612, 4631, 4636, 4700, 4801)}
)


# Codes only a hint is given for (below); not exported.
#: The gateway refused the signature (APIGW.0301), "AK and SK does not exist" (3801 at 401), "Invalid AK/SK"
#: or a malformed authorization header (0206): the AK/SK, or the clock.
SIGNATURE_REFUSED_CODES = frozenset({"APIGW.0301", "ModelArts.3801", "ModelArts.0206"})
#: The gateway knows no such API: a wrong endpoint or path.
GATEWAY_PATH_UNKNOWN = "APIGW.0101"
#: 4201: "Invalid token." at 401, "Invalid request URL" at 400 (the hint tells them apart by status).
TOKEN_INVALID_OR_BAD_URL = "ModelArts.4201"
#: Import from OBS (tsv rows 4310-4315, 4340, 4374, 4419): what the store said about the import path.
OBS_ACCESS_DENIED = "ModelArts.4310"
OBS_BUCKET_MISSING = "ModelArts.4311"
OBS_PATH_MISSING = "ModelArts.4312"
OBS_PATH_INVALID_CHARACTERS = "ModelArts.4313"
OBS_PATH_NOT_ACCESSIBLE = "ModelArts.4314"
OBS_PATH_DOUBLE_SLASH = "ModelArts.4315"
OBS_NOTHING_TO_IMPORT = "ModelArts.4340"
OBS_PATH_INVALID = "ModelArts.4374"
OBS_FILE_TOO_LARGE = "ModelArts.4419"


# ----------------------------------------------------------------------------- the hints a message adds

_AKSK_HINT = (
    "check the AK/SK (and the security token for temporary credentials) and that this machine's clock is "
    "within 15 minutes of real time, since the gateway rejects signatures with a larger clock skew"
)
_TOKEN_HINT = (
    "the IAM token expired or was revoked; a new token is needed (check user name, password and domain)"
)
_AUTH_HINT = "check the credentials and the permissions of the IAM user on this project"

# Codes whose meaning does not depend on the HTTP status they arrive with.
_CODE_HINTS: dict[str, str] = {
    **dict.fromkeys(SIGNATURE_REFUSED_CODES, _AKSK_HINT),
    GATEWAY_PATH_UNKNOWN: "the endpoint or the API path is wrong; check the region / endpoint override",
    **dict.fromkeys(TOKEN_EXPIRY_CODES - {TOKEN_INVALID_OR_BAD_URL}, _TOKEN_HINT),
    THROTTLING: "the service is busy; retry later",
    OBS_ACCESS_DENIED: "grant ModelArts access to OBS (an IAM agency with OBS permissions on the bucket)",
    OBS_BUCKET_MISSING: "check the path: the OBS bucket does not exist",
    OBS_PATH_MISSING: "check the path: no object exists under that OBS path",
    OBS_PATH_INVALID_CHARACTERS: "check the path: only letters, digits, -, _ and / are valid in an OBS path",
    OBS_PATH_NOT_ACCESSIBLE: "check the permission to access OBS and that the OBS path is valid",
    OBS_PATH_DOUBLE_SLASH: "check the path: an OBS path must not contain //",
    OBS_NOTHING_TO_IMPORT: "check the path: it holds no file the dataset can import",
    OBS_PATH_INVALID: "check the path and that the files under it are readable",
    OBS_FILE_TOO_LARGE: "a file is larger than the service imports; check the file",
    IMPORT_RUNNING: "the dataset already runs an import; only one runs at a time",
}


def code_hint(error_code: str | None) -> str | None:
    """The hint of a code whatever the status it came with (an import task's ``error_code``), or ``None``."""
    return _CODE_HINTS.get(error_code) if error_code else None


def _hint(status: int, error_code: str | None) -> str | None:
    """The hint of an error answer of ``status`` with ``error_code`` (``None``: nothing to add)."""
    if error_code in _CODE_HINTS:
        return _CODE_HINTS[error_code]
    if error_code == TOKEN_INVALID_OR_BAD_URL and status == 401:  # 4201 is also a 400 "invalid URL" code
        return _TOKEN_HINT
    if status == 401 and (error_code is None or error_code.startswith("APIGW.")):
        return _AKSK_HINT
    if status in (401, 403):
        return _AUTH_HINT
    return None


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
