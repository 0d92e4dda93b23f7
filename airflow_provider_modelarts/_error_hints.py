"""Hints appended to error messages: what a user can do about a code (``errors.py`` uses them).

Each hint is the remedy the error-code table (``../shared/spec/related/modelarts_error_codes.tsv``) gives for
the code, or what the provider knows about it (clock skew for signatures, expired tokens). Codes whose
meaning does not depend on the HTTP status come first; a few others are told apart by the status. The codes
are the names of ``_error_codes`` (each code named once); ``errors.py`` and the import-task evaluation
(``import_tasks``, for a FAILED task's ``error_code``) both ask :func:`code_hint`.
"""

from __future__ import annotations

from airflow_provider_modelarts import _error_codes as codes

__all__ = ["code_hint", "hint"]

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
    **dict.fromkeys(codes.SIGNATURE_REFUSED_CODES, _AKSK_HINT),
    codes.GATEWAY_PATH_UNKNOWN: "the endpoint or the API path is wrong; check the region / endpoint override",
    **dict.fromkeys(codes.TOKEN_EXPIRY_CODES - {codes.TOKEN_INVALID_OR_BAD_URL}, _TOKEN_HINT),
    codes.THROTTLING: "the service is busy; retry later",
    codes.OBS_ACCESS_DENIED: (
        "grant ModelArts access to OBS (an IAM agency with OBS permissions on the bucket)"
    ),
    codes.OBS_BUCKET_MISSING: "check the path: the OBS bucket does not exist",
    codes.OBS_PATH_MISSING: "check the path: no object exists under that OBS path",
    codes.OBS_PATH_INVALID_CHARACTERS: (
        "check the path: only letters, digits, -, _ and / are valid in an OBS path"
    ),
    codes.OBS_PATH_NOT_ACCESSIBLE: "check the permission to access OBS and that the OBS path is valid",
    codes.OBS_PATH_DOUBLE_SLASH: "check the path: an OBS path must not contain //",
    codes.OBS_NOTHING_TO_IMPORT: "check the path: it holds no file the dataset can import",
    codes.OBS_PATH_INVALID: "check the path and that the files under it are readable",
    codes.OBS_FILE_TOO_LARGE: "a file is larger than the service imports; check the file",
    codes.IMPORT_RUNNING: "the dataset already runs an import; only one runs at a time",
}


def code_hint(error_code: str | None) -> str | None:
    """The hint of a code whatever the status it came with (an import task's ``error_code``), or ``None``."""
    return _CODE_HINTS.get(error_code) if error_code else None


def hint(status: int, error_code: str | None) -> str | None:
    """The hint of an error answer of ``status`` with ``error_code`` (``None``: nothing to add)."""
    if error_code in _CODE_HINTS:
        return _CODE_HINTS[error_code]
    if (
        error_code == codes.TOKEN_INVALID_OR_BAD_URL and status == 401
    ):  # 4201 is also a 400 "invalid URL" code
        return _TOKEN_HINT
    if status == 401 and (error_code is None or error_code.startswith("APIGW.")):
        return _AKSK_HINT
    if status in (401, 403):
        return _AUTH_HINT
    return None
