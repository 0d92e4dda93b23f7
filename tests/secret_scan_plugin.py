"""A whole-session scan for configured secrets in logs, XComs and rendered templates.

Registered as a global pytest plugin by ``tests/abuse/conftest.py`` while pytest collects (before any test
runs), so it watches every test of the session, not only the abuse suite. It learns the secrets as they
appear and looks for them in everything the product shows a user:

Secrets learned
    * the emulator's default credentials (``DEFAULT_SECRET_KEY``, ``DEFAULT_IAM_PASSWORD``);
    * the secret fields (password, ``security_token``, ``user_password``) of every ``AIRFLOW_CONN_*``
      connection in the environment while a test runs -- that is how tests configure connections;
    * every value registered with Airflow's secrets masker (the hook registers SK, tokens, passwords);
    * every IAM token fetched by :class:`~airflow_provider_modelarts.auth.IamTokenAuth`;
    * ``SECRETS`` tuples that test modules define (a convention: ``SECRETS = (SK, TOKEN, ...)``).

Places scanned
    * every log record of the session (a handler on the root logger, all levels that loggers let through),
      and the captured stdout/stderr/log sections of every test report;
    * the return values (XCom) of the provider's operators and sensor, and every ``ti.xcom_push`` value
      that goes through the Task SDK;
    * every rendered template field (``BaseOperator.render_template_fields``);
    * at the end: task log files and the ``xcom`` / ``rendered_task_instance_fields`` tables under each
      ``AIRFLOW_HOME`` a test ran with and under pytest's temporary directory (the ``airflow dags test``
      runs of ``tests/dags`` use a home there).

Not scanned: pytest's own failure reports (an assertion in a test may quote a secret on purpose).
``tests/repo/test_secret_scan_plugin.py`` is moved to the end of the run and fails with the list of
findings.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

PLUGIN_NAME = "modelarts_secret_scan"
FINAL_TEST = "test_secret_scan_plugin.py"
MIN_SECRET_LENGTH = 8  # shorter values (e.g. "True") would match by accident
_CONN_SECRET_KEYS = ("password", "security_token", "user_password")
_MAX_TEXT = 2_000_000  # scan at most this much of one text (a 200 KB hostile log line is fine)


class SecretScan:
    """The session-wide state: known secrets, findings, and where else to look at the end."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.findings: list[str] = []
        self.scanned = 0
        self.airflow_homes: set[str] = set()
        self.started = time.time()
        self.current_test = "(collection)"
        self._pattern: re.Pattern[str] | None = None

    # -- secrets -------------------------------------------------------------------------------------------
    def learn(self, values: Iterable[Any]) -> None:
        new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH} - self.secrets
        if new:
            self.secrets |= new
            ordered = sorted(self.secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def learn_from_environment(self) -> None:
        self.learn(connection_secrets(os.environ))
        self.learn(_masker_secrets())
        home = os.environ.get("AIRFLOW_HOME")
        if home:
            self.airflow_homes.add(home)

    # -- scanning ------------------------------------------------------------------------------------------
    def scan(self, where: str, value: Any) -> None:
        if self._pattern is None or value is None:
            return
        text = value if isinstance(value, str) else _as_text(value)
        self.scanned += 1
        match = self._pattern.search(text[:_MAX_TEXT])
        if match:
            secret = match.group(0)
            shown = f"{secret[:3]}...({len(secret)} chars)"
            finding = f"a secret ({shown}) appeared in {where} (during {self.current_test})"
            if not any(f.startswith(finding.split(" (during ")[0]) for f in self.findings):
                self.findings.append(finding)

    def scan_files_and_databases(self, *extra_roots: Path) -> None:
        """Task logs (files under a ``logs`` folder) and Airflow databases under each root, recursively."""
        seen: set[Path] = set()
        for root in [*(Path(h) for h in sorted(self.airflow_homes)), *extra_roots]:
            if not root.is_dir():
                continue
            for path in root.rglob("*"):
                if path in seen or not path.is_file():  # is_file() is False for FIFOs and sockets
                    continue
                seen.add(path)
                relative = path.relative_to(root).parts
                if path.suffix == ".db":
                    for where, text in _database_rows(path):
                        self.scan(where, text)
                elif "logs" in relative[:-1] and path.stat().st_mtime >= self.started - 1:
                    self.scan(f"log file {path}", path.read_text(errors="replace"))


def _as_text(value: Any) -> str:
    try:
        return json.dumps(value, default=repr, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def connection_secrets(environ: dict[str, str] | os._Environ[str]) -> Iterator[str]:
    for name, raw in list(environ.items()):
        if not name.startswith("AIRFLOW_CONN_"):
            continue
        try:
            conn = json.loads(raw)
        except ValueError:  # URI form: the password is between ':' and '@'
            match = re.match(r"^[^:]+://[^:/@]*:([^@]+)@", raw)
            if match:
                from urllib.parse import unquote

                yield unquote(match.group(1))
            continue
        if not isinstance(conn, dict):
            continue
        yield from (conn.get(k) for k in _CONN_SECRET_KEYS if isinstance(conn.get(k), str))
        extra = conn.get("extra")
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except ValueError:
                extra = {}
        if isinstance(extra, dict):
            for key in _CONN_SECRET_KEYS:
                for variant in (key, f"extra__modelarts__{key}"):
                    if isinstance(extra.get(variant), str):
                        yield extra[variant]


def _masker_secrets() -> Iterator[str]:
    try:
        from airflow.sdk._shared.secrets_masker.secrets_masker import _secrets_masker
    except ImportError:  # layout of another Airflow version: the other sources still apply
        return
    try:
        patterns = list(_secrets_masker().patterns)
    except Exception:
        return
    for pattern in patterns:
        yield re.sub(r"\\(.)", r"\1", pattern)  # undo re.escape


def _database_rows(db: Path) -> Iterator[tuple[str, str]]:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return
    try:
        tables = {row[0] for row in con.execute("select name from sqlite_master where type='table'")}
        for table in ("xcom", "rendered_task_instance_fields"):
            if table not in tables:
                continue
            for row in con.execute(f"select * from {table}"):
                yield f"{db}:{table}", " ".join(str(v) for v in row)
    except sqlite3.Error:
        return
    finally:
        con.close()


class _ScanHandler(logging.Handler):
    def __init__(self, scan: SecretScan) -> None:
        super().__init__(level=logging.NOTSET)
        self._scan = scan

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is the logging call's problem, not a secret leak
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + repr(record.exc_info[1]) + str(record.exc_info[1])
        self._scan.scan(f"log record {record.name}:{record.levelname}", text)


class SecretScanPlugin:
    """The pytest hooks; one instance per session, reachable as ``config.pluginmanager.get_plugin(...)``."""

    def __init__(self) -> None:
        self.scan = SecretScan()
        self._handler = _ScanHandler(self.scan)
        self._undo: list[Any] = []

    # -- set-up --------------------------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        try:
            import modelarts_emulator as emulator

            self.scan.learn(
                getattr(emulator, name, None) for name in ("DEFAULT_SECRET_KEY", "DEFAULT_IAM_PASSWORD")
            )
        except ImportError:  # emulator not importable: the other sources still apply
            pass
        logging.getLogger().addHandler(self._handler)
        self._wrap_product()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        logging.getLogger().removeHandler(self._handler)
        for undo in reversed(self._undo):
            undo()

    def _patch(self, owner: Any, name: str, wrapper_factory: Any) -> None:
        original = owner.__dict__.get(name)
        if original is None:
            return
        setattr(owner, name, wrapper_factory(original))
        self._undo.append(lambda: setattr(owner, name, original))

    def _wrap_product(self) -> None:
        scan = self.scan

        def returns(label: str) -> Any:
            def factory(original: Any) -> Any:
                @functools.wraps(original)
                def wrapper(self_: Any, *args: Any, **kwargs: Any) -> Any:
                    result = original(self_, *args, **kwargs)
                    scan.scan(f"{label} of {type(self_).__name__} (XCom)", result)
                    return result

                return wrapper

            return factory

        def rendered(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(self_: Any, *args: Any, **kwargs: Any) -> Any:
                result = original(self_, *args, **kwargs)
                for field in getattr(self_, "template_fields", ()):
                    scan.scan(
                        f"rendered template field {type(self_).__name__}.{field}", getattr(self_, field, None)
                    )
                return result

            return wrapper

        def pushed(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(self_: Any, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
                scan.scan(f"XCom {key!r} pushed by {getattr(self_, 'task_id', '?')}", value)
                return original(self_, key, value, *args, **kwargs)

            return wrapper

        def token_learner(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(self_: Any, *args: Any, **kwargs: Any) -> Any:
                token = original(self_, *args, **kwargs)
                scan.learn([getattr(token, "value", None)])
                return token

            return wrapper

        try:
            from airflow.sdk.bases.operator import BaseOperator

            self._patch(BaseOperator, "render_template_fields", rendered)
        except ImportError:
            pass
        try:
            from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

            self._patch(RuntimeTaskInstance, "xcom_push", pushed)
        except ImportError:
            pass
        try:
            from airflow_provider_modelarts.auth import IamTokenAuth

            self._patch(IamTokenAuth, "_accept_token_response", token_learner)
        except ImportError:
            pass
        patched: set[tuple[type, str]] = set()
        for module, names, methods in (
            ("airflow_provider_modelarts.operators.samples", ["AddSamplesOperator"], ["execute"]),
            ("airflow_provider_modelarts.operators.labels", ["UpdateLabelsOperator"], ["execute"]),
            ("airflow_provider_modelarts.operators.acceptance_base", ["AcceptanceBaseOperator"], ["execute"]),
            (
                "airflow_provider_modelarts.sensors.acceptance",
                ["AcceptanceSensor"],
                ["execute", "execute_complete", "poke"],
            ),
        ):
            try:
                mod = __import__(module, fromlist=names)
            except ImportError:
                continue
            for cls_name in names:
                cls = getattr(mod, cls_name, None)
                for method in methods:
                    # Patch the class that defines the method (AddSamplesOperator inherits its execute).
                    owner = next((k for k in getattr(cls, "__mro__", ()) if method in k.__dict__), None)
                    if owner is not None and (owner, method) not in patched:
                        patched.add((owner, method))
                        self._patch(owner, method, returns(method))

    # -- per test ------------------------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        final = [i for i in items if i.path.name == FINAL_TEST]
        items[:] = [i for i in items if i.path.name != FINAL_TEST] + final

    def _attach(self) -> None:
        # Airflow configures logging (dictConfig) when it first needs it, which replaces the root handlers:
        # put the scan's handler back before every test phase.
        root = logging.getLogger()
        if self._handler not in root.handlers:
            root.addHandler(self._handler)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self._attach()
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        self._attach()
        self.scan.current_test = item.nodeid
        module = getattr(item, "module", None)
        self.scan.learn(getattr(module, "SECRETS", ()) or ())
        self.scan.learn_from_environment()
        yield
        self.scan.learn_from_environment()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for title, content in report.sections:
            self.scan.scan(f"captured output '{title}' of {report.nodeid}", content)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        self._attach()
        yield
        self.scan.learn(_masker_secrets())
        self.scan.current_test = "(between tests)"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        scan = self.scan
        homes = ", ".join(sorted(scan.airflow_homes)) or "none"
        terminalreporter.write_line(
            f"secret scan: {scan.scanned:,} texts scanned for {len(scan.secrets)} secrets, "
            f"{len(scan.findings)} leaks (Airflow homes: {homes})"
        )


def register(config: pytest.Config) -> SecretScanPlugin:
    """Register the plugin once per session (idempotent) and return it."""
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if plugin is None:
        plugin = SecretScanPlugin()
        config.pluginmanager.register(plugin, PLUGIN_NAME)
    return plugin  # type: ignore[no-any-return]
