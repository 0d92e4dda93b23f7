"""The service's error codes the provider reacts to, each named once (rows of the error-code table,
``../shared/spec/related/modelarts_error_codes.tsv``).

What each one makes the provider do lives where that is decided: the exception class (``errors.classify``),
the hint appended to a message (``_error_hints``), a step repeated (``retries``), an adoption
(``team_tasks``, ``import_tasks``, ``acceptance``). ``errors`` re-exports the public names; this module
imports nothing, so every one of those can name a code without a cycle.
"""

from __future__ import annotations

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


# Codes only a hint is given for (``_error_hints``).
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
