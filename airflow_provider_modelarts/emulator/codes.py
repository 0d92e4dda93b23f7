"""The error codes the emulator answers with, and the exception that carries one to the error handler.

HTTP statuses and messages follow ``related/modelarts_error_codes.tsv`` except where noted: "not found" codes
for a dataset or team labeling task are answered with HTTP 404 by the sample and acceptance calls, as the
API pages' status tables list, although the tsv files them under 400; the team labeling task calls answer
them with the configured ``not_found_status`` (400 by default, as the tsv files them; see
``team_tasks.py``).
"""

from __future__ import annotations

import json

__all__ = ["CODES", "ApiError", "error_body"]

# code -> (HTTP status, message as in the tsv)
CODES: dict[str, tuple[int, str]] = {
    "ModelArts.4352": (404, "Dataset does not exist"),
    "ModelArts.4619": (404, "Workforce task does not exist"),
    "ModelArts.4612": (404, "Task not found"),
    "ModelArts.4420": (400, "Sample not found"),
    "ModelArts.4422": (400, "Sample already exists"),
    "ModelArts.4656": (400, "Sample oversized."),
    "ModelArts.4396": (400, "Parameter is invalid"),
    # The tsv's generic "Parameter error." row: what the team labeling task calls answer to a bad parameter
    # (4396's row is about import task parameters).
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
    # API gateway codes (not in the tsv): signature / credential refusals and unknown URLs.
    "APIGW.0301": (401, "Incorrect IAM authentication information"),
    "APIGW.0101": (404, "The API does not exist or has not been published in the environment"),
}


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
