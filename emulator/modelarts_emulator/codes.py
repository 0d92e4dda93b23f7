"""The error codes the emulator answers with, and the exception that carries one to the error handler.

HTTP statuses and messages follow ``related/modelarts_error_codes.tsv``. The "does not exist" codes of
:data:`NOT_FOUND_CODES` are filed there under 400 while the API pages' status tables list 404 Not Found:
every route answers them with the configured ``config.not_found_status`` (400 by default, as the tsv files
them; 404 as the pages list), so a client is tested against both (``app.py`` applies it).
A bad parameter anywhere is the tsv's generic row ``ModelArts.0104`` "Parameter error.", except in an import
task's create body: ``4396``'s row, "Ensure that the import task parameters are correct.", is about those.
An unknown import task is ``ModelArts.4612`` "Task not found" ("The task ID does not exist.").
"""

from __future__ import annotations

import json

__all__ = ["CODES", "NOT_FOUND_CODES", "PARAMETER_ERROR", "ApiError", "error_body"]

# code -> (HTTP status, message as in the tsv)
CODES: dict[str, tuple[int, str]] = {
    # The three "does not exist" rows the emulator answers (tsv: 400; see NOT_FOUND_CODES).
    "ModelArts.4352": (400, "Dataset does not exist"),
    "ModelArts.4619": (400, "Workforce task does not exist"),
    "ModelArts.4612": (400, "Task not found"),  # an unknown acceptance round (checking_task_id) in the report
    "ModelArts.4420": (400, "Sample not found"),
    "ModelArts.4422": (400, "Sample already exists"),
    "ModelArts.4656": (400, "Sample oversized."),
    # The tsv's generic "Parameter error." row ("Check the parameter settings."): every bad parameter, body,
    # query or path, of every call (4396's row, "Parameter is invalid", is about import task parameters).
    "ModelArts.0104": (400, "Parameter error."),
    # "Frequent dataset or labeling task creation in a unit time." (the configurable create throttle)
    "ModelArts.4395": (429, "Too many dataset requests"),
    "ModelArts.4398": (400, "Invalid system language."),
    "ModelArts.4623": (400, "Workforce task is checking"),
    "ModelArts.4625": (400, "There are no unchecked samples."),
    "ModelArts.4631": (400, "The task does not exist."),
    "ModelArts.4615": (400, "Workforce task is unfinished"),
    "ModelArts.4601": (400, "The workforce does not exist"),
    "ModelArts.4604": (400, "The worker does not exist"),
    "ModelArts.4620": (400, "The workforce task already exists"),
    "ModelArts.4621": (400, "Failed to start the team labeling task."),
    # Labeling an accepted team task: the user guide says "Once the labeled data is accepted, team members
    # cannot modify the labeling information"; the tsv's code for a team member's forbidden action.
    "ModelArts.4600": (403, "The worker action is forbidden"),
    # A project the credentials do not belong to (the tsv's 403 row of this code).
    "ModelArts.0210": (403, "The project id in the request URL does not match the token."),
    "ModelArts.4127": (401, "Token authentication expired."),
    "ModelArts.4201": (401, "Invalid token."),
    "ModelArts.6101": (429, "The system is busy now. Please try again later."),
    "ModelArts.6102": (
        500,
        "The server has encountered an error and fails to process the request. Please try again later "
        "or submit a service ticket.",
    ),
    "ModelArts.4302": (503, "Gateway forwarding error because %s."),
    # Import tasks and the OBS they read (obs.py maps what the store says to these rows).
    "ModelArts.4356": (400, "Dataset already has running import task"),
    "ModelArts.4396": (400, "Parameter is invalid"),
    "ModelArts.4310": (403, "OBS action is forbidden, please check iam agency or OBS and so on"),
    "ModelArts.4311": (400, "OBS bucket does not exist"),
    "ModelArts.4312": (400, "OBS path does not exist"),
    "ModelArts.4313": (400, "OBS path is invalid"),
    "ModelArts.4314": (400, "Obs error"),
    "ModelArts.4315": (400, "Invalid OBS path."),
    "ModelArts.4340": (400, "Import path does not contain valid file"),
    "ModelArts.4374": (400, "Invalid path"),
    "ModelArts.4419": (403, "File is too large"),
    # API gateway codes (not in the tsv): signature / credential refusals and unknown URLs.
    "APIGW.0301": (401, "Incorrect IAM authentication information"),
    "APIGW.0101": (404, "The API does not exist or has not been published in the environment"),
}


#: "Dataset does not exist", "Workforce task does not exist", "Task not found": answered at
#: ``config.not_found_status`` by every route.
NOT_FOUND_CODES = frozenset({"ModelArts.4352", "ModelArts.4619", "ModelArts.4612"})
#: What every bad parameter is answered with (see the module docstring).
PARAMETER_ERROR = "ModelArts.0104"


class ApiError(Exception):
    """An error answer: ``status`` and ``{"error_code", "error_msg"}``. ``detail`` is appended to the
    tsv's message so the caller learns which parameter, sample or header is the problem."""

    def __init__(self, code: str, detail: str | None = None, *, status: int | None = None) -> None:
        default_status, message = CODES.get(code, (400, code))
        self.code = code
        self.status = status or default_status
        self.message = f"{message.rstrip('.')}: {detail}" if detail else message
        super().__init__(f"{self.status} {code}: {self.message}")


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error_code": code, "error_msg": message}).encode()
