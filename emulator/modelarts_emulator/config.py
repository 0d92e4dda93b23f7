"""Emulator settings and the default credentials the tests, the demo and the CLI share."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CREATE_TASK_REPLIES",
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_DOMAIN",
    "DEFAULT_IAM_PASSWORD",
    "DEFAULT_IAM_USER",
    "DEFAULT_PROJECT_ID",
    "DEFAULT_PROJECT_NAME",
    "DEFAULT_SECRET_KEY",
    "IMPORT_LIST_ORDERS",
    "IMPORT_PATH_ERRORS",
    "EmulatorConfig",
    "IamUser",
]

# A project id has the service's format, 32 hexadecimal characters (the connection form says so): these
# spell "modelarts-emulat" in hex, so the emulator's project is recognisable in logs.
DEFAULT_PROJECT_ID = "6d6f64656c617274732d656d756c6174"
# IAM scopes a token by project id or name; the emulator's one project answers to both.
DEFAULT_PROJECT_NAME = "cn-north-4"
DEFAULT_ACCESS_KEY = "EMULATORAK0000000001"
DEFAULT_SECRET_KEY = "emulator-secret-key-do-not-use-in-prod"
DEFAULT_IAM_USER = "labeler"
DEFAULT_IAM_PASSWORD = "emulator-password"
DEFAULT_DOMAIN = "emulator-domain"


@dataclass(frozen=True)
class IamUser:
    """An IAM user the token endpoint accepts (password method)."""

    name: str
    password: str = field(repr=False)
    domain_name: str


def _default_users() -> dict[str, IamUser]:
    return {DEFAULT_IAM_USER: IamUser(DEFAULT_IAM_USER, DEFAULT_IAM_PASSWORD, DEFAULT_DOMAIN)}


# Settings the admin API may change at run time (POST /_emulator/config), with their types.
_MUTABLE: dict[str, tuple[type, ...]] = {
    "require_auth": (bool,),
    "token_ttl": (int, float),
    "max_clock_skew": (int, float),
    "reviewer_pass_rate": (int, float),
    "reviewer_pace": (int,),
    "step_seconds": (int, float, type(None)),
    "start_steps": (int,),
    "sampling_steps": (int,),
    "sync_steps": (int,),
    # Replies the pages allow (README assumptions).
    "not_found_status": (int,),
    "task_stats_by_flag": (bool,),
    "task_page_cap": (int, type(None)),
    "sample_page_cap": (int, type(None)),
    "create_task_reply": (str,),
    "throttle_task_creates": (int,),
    # The service's unpublished request limit (throttle.py).
    "throttle_concurrency": (int, type(None)),
    "throttle_rate": (int, float, type(None)),
    # Lists that change while read, wrong counts, ignored offsets (list_churn.py).
    "list_churn_insert": (int,),
    "list_churn_remove": (int,),
    "list_churn_pages": (int,),
    "list_count_error": (int,),
    "list_count_omitted": (bool,),
    "list_ignore_offset": (bool,),
    # Network-like spread of the injected latency (faults.py).
    "latency_jitter_sigma": (int, float),
    # Import tasks (import_tasks.py) and the S3-compatible store they read (obs.py).
    "import_steps": (int,),
    "import_pace": (int,),
    "import_path_errors": (str,),
    "import_list_lag": (int,),
    "import_list_order": (str,),
    "import_page_cap": (int, type(None)),
    "create_import_reply": (str,),
    "import_fail": (dict, type(None)),
    "import_max_file_bytes": (int,),
    "obs_endpoint": (str, type(None)),
    "obs_access_key": (str,),
    "obs_secret_key": (str,),
    "obs_region": (str,),
}
#: Settings ``public()`` (``GET /_emulator/config``) does not show.
_SECRET_SETTINGS = frozenset({"obs_secret_key"})
#: ``import_path_errors``: an OBS path error refused at create, or a FAILED task (the pages do not say).
IMPORT_PATH_ERRORS = ("create", "task")
#: ``import_list_order``: the import task list's order (the list page states none).
IMPORT_LIST_ORDERS = ("asc", "desc", "shuffled")

#: ``create_task_reply`` values: the page's reply, ``{}`` (Table 6 marks nothing mandatory), 204 and no body.
CREATE_TASK_REPLIES = ("task_id", "empty", "no_content")


@dataclass
class EmulatorConfig:
    """How the emulator authenticates callers and how fast its simulated labeling team works.

    ``security_tokens``: ``None`` accepts any ``X-Security-Token`` sent with an AK/SK signature (the token
    must still be signed); a set restricts them to those values.
    ``step_seconds``: wall-clock seconds per simulated step (reviewer progress, sampling, synchronizing);
    ``None`` means time only moves through ``POST /_emulator/advance``.

    Replies the pages allow, each a setting:
    ``not_found_status``: HTTP status of ``ModelArts.4352`` / ``ModelArts.4619`` / ``ModelArts.4612`` on
    every call (400 as the error table files them, the default; 404 as the pages' status tables list).
    ``task_stats_by_flag`` (on by default): task details carry ``sample_stats`` / ``workforce_stats`` (and
    ``worker_stats``) only when their query flag is true (the details page: "false ... (Default value)"); off,
    they are always there, as in the page's example. ``task_page_cap``: the team task list answers at most
    this many tasks per page whatever ``limit`` asks ("Maximum number of records"); ``offset`` then counts
    pages of that size. ``sample_page_cap``: the same for both sample lists (their ``limit`` is also the
    "Maximum number of records returned on each page"). ``create_task_reply``: one of
    :data:`CREATE_TASK_REPLIES`. ``throttle_task_creates``: the next N creates answer 429
    ``ModelArts.4395`` ("Frequent dataset or labeling task creation in a unit time") and create nothing.
    ``throttle_concurrency`` / ``throttle_rate``: answer 429 ``ModelArts.6101`` above that many requests in
    flight / per second (``throttle.py``); ``None``, the default, never.
    ``list_churn_insert`` / ``list_churn_remove`` / ``list_churn_pages``, ``list_count_error``,
    ``list_count_omitted``, ``list_ignore_offset``: the three lists change between pages, report a wrong
    count or none, and ignore ``offset`` (``list_churn.py``); by default they do not.
    ``latency_jitter_sigma``: each request's injected latency (its latency fault rules) times a lognormal
    factor of this sigma, median 1, drawn per request from the fault seed (``faults.py``); 0, the default,
    none.

    Import tasks (``import_tasks.py``): ``import_steps`` steps in QUEUING and in STARTING each,
    ``import_pace`` objects copied per RUNNING step, ``import_path_errors`` (:data:`IMPORT_PATH_ERRORS`),
    ``import_list_lag`` (a new task is listed that many steps late), ``import_list_order``
    (:data:`IMPORT_LIST_ORDERS`), ``import_page_cap`` (as ``task_page_cap``), ``create_import_reply`` (as
    ``create_task_reply``), ``import_fail`` (``{"path", "error_code", "after_samples"}``: the import of that
    path fails with that code once it imported that many samples), ``import_max_file_bytes`` (4419 above).
    ``obs_endpoint`` / ``obs_access_key`` / ``obs_secret_key`` / ``obs_region``: the S3-compatible server the
    import tasks read (``obs.py``); no endpoint: every import is refused with 4314.
    """

    access_keys: dict[str, str] = field(default_factory=lambda: {DEFAULT_ACCESS_KEY: DEFAULT_SECRET_KEY})
    security_tokens: set[str] | None = None
    iam_users: dict[str, IamUser] = field(default_factory=_default_users)
    project_id: str = DEFAULT_PROJECT_ID
    project_name: str = DEFAULT_PROJECT_NAME
    require_auth: bool = True
    token_ttl: float = 24 * 3600.0
    max_clock_skew: float = 15 * 60.0
    reviewer_pass_rate: float = 0.9
    reviewer_pace: int = 5
    step_seconds: float | None = 1.0
    start_steps: int = 1
    sampling_steps: int = 1
    sync_steps: int = 1
    random_seed: int = 0
    not_found_status: int = 400
    task_stats_by_flag: bool = True
    task_page_cap: int | None = None
    sample_page_cap: int | None = None
    create_task_reply: str = "task_id"
    throttle_task_creates: int = 0
    throttle_concurrency: int | None = None
    throttle_rate: float | None = None
    list_churn_insert: int = 0
    list_churn_remove: int = 0
    list_churn_pages: int = 0
    list_count_error: int = 0
    list_count_omitted: bool = False
    list_ignore_offset: bool = False
    latency_jitter_sigma: float = 0.0
    import_steps: int = 1
    import_pace: int = 100
    import_path_errors: str = "create"
    import_list_lag: int = 0
    import_list_order: str = "asc"
    import_page_cap: int | None = None
    create_import_reply: str = "task_id"
    import_fail: dict[str, Any] | None = None
    import_max_file_bytes: int = 12_582_912
    obs_endpoint: str | None = None
    obs_access_key: str = "testing"
    obs_secret_key: str = field(default="testing", repr=False)
    obs_region: str = "us-east-1"

    def __repr__(self) -> str:  # the dataclass repr would print every SK
        return (
            f"EmulatorConfig(project_id={self.project_id!r}, access_keys=[{', '.join(self.access_keys)}], "
            f"require_auth={self.require_auth}, reviewer_pass_rate={self.reviewer_pass_rate}, "
            f"reviewer_pace={self.reviewer_pace}, step_seconds={self.step_seconds})"
        )

    def public(self) -> dict[str, Any]:
        """The settings without secrets (for ``GET /_emulator/config``)."""
        return {
            "project_id": self.project_id,
            "project_name": self.project_name,
            "access_keys": sorted(self.access_keys),
            "security_tokens_restricted": self.security_tokens is not None,
            "iam_users": sorted(self.iam_users),
            "random_seed": self.random_seed,
            **{name: getattr(self, name) for name in _MUTABLE if name not in _SECRET_SETTINGS},
        }

    def update(self, changes: dict[str, Any]) -> None:
        """Apply admin changes, rejecting unknown names and wrong types with a message naming them."""
        for name, value in changes.items():
            if name not in _MUTABLE:
                raise ValueError(f"unknown or read-only setting {name!r}; settable: {', '.join(_MUTABLE)}")
            types = _MUTABLE[name]
            if isinstance(value, bool) and bool not in types:
                raise ValueError(f"setting {name!r} must be a number, got {value!r}")
            if not isinstance(value, types):
                raise ValueError(f"setting {name!r} has the wrong type: {value!r}")
        for name, value in changes.items():
            setattr(self, name, value)
        self.validate()

    def validate(self) -> None:
        if not 0.0 <= self.reviewer_pass_rate <= 1.0:
            raise ValueError(f"reviewer_pass_rate must be in [0, 1], got {self.reviewer_pass_rate}")
        if self.reviewer_pace < 1:
            raise ValueError(f"reviewer_pace must be at least 1, got {self.reviewer_pace}")
        if self.step_seconds is not None and self.step_seconds <= 0:
            raise ValueError(f"step_seconds must be positive or null, got {self.step_seconds}")
        if self.token_ttl <= 0:
            raise ValueError(f"token_ttl must be positive, got {self.token_ttl}")
        if min(self.start_steps, self.sampling_steps, self.sync_steps) < 0:
            raise ValueError("start_steps, sampling_steps and sync_steps must not be negative")
        if self.not_found_status not in (400, 404):
            raise ValueError(f"not_found_status must be 400 or 404, got {self.not_found_status}")
        if self.task_page_cap is not None and self.task_page_cap < 1:
            raise ValueError(f"task_page_cap must be at least 1 or null, got {self.task_page_cap}")
        if self.sample_page_cap is not None and self.sample_page_cap < 1:
            raise ValueError(f"sample_page_cap must be at least 1 or null, got {self.sample_page_cap}")
        if self.create_task_reply not in CREATE_TASK_REPLIES:
            raise ValueError(
                f"create_task_reply must be one of {', '.join(CREATE_TASK_REPLIES)}, "
                f"got {self.create_task_reply!r}"
            )
        if self.throttle_concurrency is not None and self.throttle_concurrency < 1:
            raise ValueError(
                f"throttle_concurrency must be at least 1 or null, got {self.throttle_concurrency}"
            )
        if self.throttle_rate is not None and self.throttle_rate <= 0:
            raise ValueError(f"throttle_rate must be positive or null, got {self.throttle_rate}")
        if not 0 <= self.latency_jitter_sigma <= 2:
            raise ValueError(f"latency_jitter_sigma must be in [0, 2], got {self.latency_jitter_sigma}")
        if min(self.list_churn_insert, self.list_churn_remove, self.list_churn_pages) < 0:
            raise ValueError("list_churn_insert, list_churn_remove and list_churn_pages must not be negative")
        self._validate_imports()
        if self.throttle_task_creates < 0:
            raise ValueError(f"throttle_task_creates must not be negative, got {self.throttle_task_creates}")

    def _validate_imports(self) -> None:
        if self.import_path_errors not in IMPORT_PATH_ERRORS:
            raise ValueError(
                f"import_path_errors must be one of {IMPORT_PATH_ERRORS}, got {self.import_path_errors!r}"
            )
        if self.import_list_order not in IMPORT_LIST_ORDERS:
            raise ValueError(
                f"import_list_order must be one of {IMPORT_LIST_ORDERS}, got {self.import_list_order!r}"
            )
        if self.create_import_reply not in CREATE_TASK_REPLIES:
            raise ValueError(f"create_import_reply must be one of {CREATE_TASK_REPLIES}")
        if min(self.import_steps, self.import_list_lag) < 0 or self.import_pace < 1:
            raise ValueError("import_steps and import_list_lag must not be negative, import_pace at least 1")
        if self.import_page_cap is not None and self.import_page_cap < 1:
            raise ValueError(f"import_page_cap must be at least 1 or null, got {self.import_page_cap}")
        fail = self.import_fail
        if fail is not None and not (
            isinstance(fail.get("path"), str) and isinstance(fail.get("error_code"), str)
        ):
            raise ValueError('import_fail must be {"path", "error_code", "after_samples"?} or null')

    def copy(self) -> EmulatorConfig:
        return dataclasses.replace(
            self,
            access_keys=dict(self.access_keys),
            security_tokens=None if self.security_tokens is None else set(self.security_tokens),
            iam_users=dict(self.iam_users),
        )
