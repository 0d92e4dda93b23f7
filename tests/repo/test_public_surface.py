"""What users may import: ``__all__`` per public module, one exception root, no reaching into ``_models``.

A module is public when no part of its dotted name starts with ``_`` (``_models``, ``_api_call``, ... are
implementation). A package ``__init__`` that defines nothing of its own (only a docstring) exports nothing and
needs no ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import airflow_provider_modelarts
import modelarts_emulator
from airflow_provider_modelarts import errors, models
from airflow_provider_modelarts.errors import ModelArtsError

PACKAGE = airflow_provider_modelarts.__name__
EMULATOR = modelarts_emulator.__name__


def _all_modules() -> list[str]:
    """The provider's modules, then the emulator distribution's (the same surface rules hold for both)."""
    found: list[str] = []
    for package in (airflow_provider_modelarts, modelarts_emulator):
        walked = pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
        found += [package.__name__, *sorted(info.name for info in walked)]
    return found


def _is_public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


PUBLIC = [name for name in _all_modules() if _is_public(name)]


def _own_public_names(module: ModuleType) -> list[str]:
    """Names a module defines or imports for use, leaving out submodules and ``from __future__`` flags."""
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    ]


def test_the_walk_finds_the_public_modules() -> None:
    assert {f"{PACKAGE}.models", f"{PACKAGE}.errors", f"{PACKAGE}.auth", f"{PACKAGE}.operators.bulk"} <= set(
        PUBLIC
    )
    assert f"{PACKAGE}._api_call" not in PUBLIC and f"{PACKAGE}._models._enums" not in PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_public_module_says_what_users_may_import(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert not _own_public_names(module), f"{name} defines public names but has no __all__"
        return
    assert len(exported) == len(set(exported)), name
    assert [n for n in exported if n.startswith("_")] == [], name
    assert [n for n in exported if not hasattr(module, n)] == [], name


def test_models_exports_schema_enums_and_parsers_not_helpers() -> None:
    exported = set(models.__all__)
    assert {"Sample", "SampleLabels", "TaskStatus", "AcceptanceAction", "parse_sample", "parse_response"} <= (
        exported
    )
    helpers = {"StrEnum", "format_loc", "refuse_unsendable", "problems_from_error", "request_json"}
    assert not exported & helpers


def test_auth_exports_the_auth_classes_only() -> None:
    import airflow_provider_modelarts.auth as auth

    assert sorted(auth.__all__) == ["AkSkAuth", "IamTokenAuth"]


def test_importing_models_for_an_enum_leaves_the_pydantic_models_unloaded() -> None:
    """DAG files reach ``models`` through the sensor and the acceptance rules: parsing them stays cheap."""
    code = (
        "import sys\n"
        "from airflow_provider_modelarts.models import TaskStatus\n"
        "print([m for m in sys.modules if m.startswith('airflow_provider_modelarts._models.')])\n"
        "from airflow_provider_modelarts.models import Sample\n"
        "print('airflow_provider_modelarts._models._samples' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['airflow_provider_modelarts._models._enums']", "True"]


def _exception_classes(module: ModuleType) -> list[type[BaseException]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
    ]


def test_every_error_in_errors_is_a_modelarts_error() -> None:
    """Those it defines and those it re-exports (the classes of ``_exceptions``)."""
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert errors.ResponseParseError in classes
    assert [cls.__name__ for cls in classes if not issubclass(cls, ModelArtsError)] == []


def test_every_library_exception_is_a_modelarts_error() -> None:
    """Outside the emulator (a server with its own error type), one root catches everything we raise."""
    stray = [
        f"{cls.__module__}.{cls.__qualname__}"
        for name in _all_modules()
        if not name.startswith(EMULATOR)
        for cls in _exception_classes(importlib.import_module(name))
        if not issubclass(cls, ModelArtsError)
    ]
    assert stray == []


def test_input_refusals_stay_value_errors() -> None:
    from airflow_provider_modelarts.bulk.checks import RunRefused
    from airflow_provider_modelarts.bulk.sources import ManifestError

    for cls in (RunRefused, models.SampleValidationError, ManifestError):
        assert issubclass(cls, ModelArtsError) and issubclass(cls, ValueError), cls


def _imports_from(path: Path, module_name: str) -> list[tuple[str, str]]:
    """``(module, name)`` of every ``from ... import name`` in the file, relative imports resolved."""
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, source] if source else base)
            found.extend((source, alias.name) for alias in node.names)
    return found


def test_public_modules_take_what_models_exports_from_models() -> None:
    """``models`` is the facade: only it may import its exported names from the private ``_models``."""
    exported = set(models.__all__)
    offenders = []
    for name in PUBLIC:
        if name == models.__name__:
            continue
        module = importlib.import_module(name)
        assert module.__file__ is not None
        for source, imported in _imports_from(Path(module.__file__), name):
            if source.startswith(f"{PACKAGE}._models") and imported in exported:
                offenders.append(f"{name}: {imported} from {source}")
    assert offenders == []
