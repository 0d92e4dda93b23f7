"""Provider registration: the metadata Airflow validates, the entry point, and what the Airflow CLI shows."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from importlib.metadata import distribution, entry_points
from pathlib import Path
from typing import Any

import airflow
import jsonschema
import pytest
from airflow_versions import needs_metadata_connection_form

import airflow_provider_modelarts
from airflow_provider_modelarts import get_provider_info

AIRFLOW_DIR = Path(airflow.__file__).parent
AIRFLOW_BIN = Path(sys.executable).with_name("airflow")
HOOK_CLASS = "airflow_provider_modelarts.hooks.modelarts.ModelArtsHook"


def _conn_type(info: dict[str, Any]) -> dict[str, Any]:
    (conn_type,) = [c for c in info["connection-types"] if c["connection-type"] == "modelarts"]
    return conn_type


def test_provider_info_validates_against_airflow_schema() -> None:
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == distribution("airflow-provider-modelarts").metadata["Name"]
    # The version lives in one place (__version__); the wheel's metadata and Airflow's provider info agree.
    assert info["versions"] == [airflow_provider_modelarts.__version__]
    assert distribution("airflow-provider-modelarts").version == airflow_provider_modelarts.__version__


def test_ui_field_behaviour_validates_against_airflow_schema() -> None:
    # Airflow validates ui-field-behaviour with snake_case keys, and drops it with just a warning if invalid.
    schema = json.loads((AIRFLOW_DIR / "customized_form_field_behaviours.schema.json").read_text())
    behaviour = _conn_type(get_provider_info())["ui-field-behaviour"]
    converted = {key.replace("-", "_"): value for key, value in behaviour.items()}
    jsonschema.validate(converted, schema)
    assert behaviour["relabeling"]["login"] == "Access Key (AK)"
    assert behaviour["relabeling"]["password"] == "Secret Key (SK)"


def test_conn_fields_cover_every_setting_the_hook_reads() -> None:
    fields = _conn_type(get_provider_info())["conn-fields"]
    assert set(fields) == {
        "region",
        "project_id",
        "endpoint",
        "iam_endpoint",
        "auth_type",
        "security_token",
        "domain_name",
        "user_name",
        "user_password",
        "verify",
        "timeout",
        "console_url",
    }
    for name, spec in fields.items():
        assert spec["label"], name
        # Each field's schema must itself be a valid JSON schema: the UI renders the form from it.
        jsonschema.Draft7Validator.check_schema(spec["schema"])
    assert fields["auth_type"]["schema"]["enum"] == ["aksk", "password"]
    secret_fields = {name for name, spec in fields.items() if spec["schema"].get("format") == "password"}
    assert secret_fields == {"security_token", "user_password"}


def test_listed_classes_and_modules_import() -> None:
    """Everything the metadata names must exist, or Airflow fails lazily when someone first uses it."""
    info = get_provider_info()
    module_paths = [
        module
        for section in ("hooks", "operators", "sensors", "triggers")
        for entry in info.get(section, [])
        for module in entry["python-modules"]
    ]
    class_paths = [_conn_type(info)["hook-class-name"], *info.get("extra-links", [])]
    assert "airflow_provider_modelarts.hooks.modelarts" in module_paths
    for module in module_paths:
        importlib.import_module(module)
    for path in class_paths:
        module, _, name = path.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type), path
    hook_cls = importlib.import_module("airflow_provider_modelarts.hooks.modelarts").ModelArtsHook
    assert hook_cls.conn_type == "modelarts"
    assert hook_cls.hook_name == _conn_type(info)["hook-name"] == "Huawei Cloud ModelArts"


def test_every_operator_extra_link_is_registered() -> None:
    """A link class missing from "extra-links" makes its button vanish from the UI for serialized DAGs."""
    from airflow.sdk import BaseOperator

    info = get_provider_info()
    used: set[str] = set()
    for section in ("operators", "sensors"):
        for entry in info[section]:
            for module_name in entry["python-modules"]:
                for obj in vars(importlib.import_module(module_name)).values():
                    if (
                        isinstance(obj, type)
                        and issubclass(obj, BaseOperator)
                        and obj.__module__ == module_name
                    ):
                        used |= {
                            f"{type(ln).__module__}.{type(ln).__name__}" for ln in obj.operator_extra_links
                        }
    assert used, "no operator declares extra links"
    assert used <= set(info["extra-links"])


def test_entry_point_resolves_to_get_provider_info() -> None:
    (ep,) = [
        ep
        for ep in entry_points(group="apache_airflow_provider")
        if ep.value.startswith("airflow_provider_modelarts")
    ]
    assert ep.dist is not None and ep.dist.name == "airflow-provider-modelarts"
    assert ep.load() is get_provider_info


@needs_metadata_connection_form
def test_providers_manager_builds_the_connection_form() -> None:
    """The path the Airflow 3 UI takes: form widgets and field behaviour from metadata, no hook import."""
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    widgets = pm.connection_form_widgets
    assert widgets["extra__modelarts__security_token"].is_sensitive
    assert widgets["extra__modelarts__user_password"].is_sensitive
    assert not widgets["extra__modelarts__project_id"].is_sensitive
    assert widgets["extra__modelarts__auth_type"].field["value"] == "aksk"
    behaviour = pm.field_behaviours["modelarts"]
    assert behaviour["relabeling"]["login"] == "Access Key (AK)"
    assert "host" in behaviour["hidden_fields"]
    assert "airflow_provider_modelarts.links.ModelArtsDatasetLink" in pm.extra_links_class_names
    triggers = {t.trigger_class_name for t in pm.trigger if t.package_name == "airflow-provider-modelarts"}
    assert triggers == {
        "airflow_provider_modelarts.triggers.acceptance",
        "airflow_provider_modelarts.triggers.import_tasks",
    }


@pytest.fixture(scope="module")
def airflow_cli(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}

    def run(*args: str) -> list[dict[str, Any]]:
        result = subprocess.run(
            [str(AIRFLOW_BIN), *args, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        # The CLI may print warnings before the JSON document; the document is the last line.
        return json.loads(result.stdout.strip().splitlines()[-1])

    return run


def test_airflow_providers_list_shows_the_package(airflow_cli: Any) -> None:
    rows = airflow_cli("providers", "list")
    (row,) = [r for r in rows if r["package_name"] == "airflow-provider-modelarts"]
    assert row["version"] == airflow_provider_modelarts.__version__
    assert "ModelArts" in row["description"]


def test_airflow_providers_hooks_shows_the_connection_type(airflow_cli: Any) -> None:
    rows = airflow_cli("providers", "hooks")
    (row,) = [r for r in rows if r["connection_type"] == "modelarts"]
    # "class" is an import-error marker instead of the class name when the hook module fails to import.
    assert row == {
        "connection_type": "modelarts",
        "class": HOOK_CLASS,
        "conn_id_attribute_name": "modelarts_conn_id",
        "package_name": "airflow-provider-modelarts",
        "hook_name": "Huawei Cloud ModelArts",
    }


# Standard connection attributes: the only fields whose ui-field-behaviour placeholders Airflow's API serves.
STANDARD_FIELDS = {"description", "host", "schema", "login", "password", "port"}


def test_placeholders_only_where_the_form_shows_them() -> None:
    """Airflow 3.3's API passes ui-field-behaviour placeholders on for standard fields only; extra fields get
    their format from their schema (examples, default) and description instead."""
    behaviour = _conn_type(get_provider_info())["ui-field-behaviour"]
    assert set(behaviour["placeholders"]) <= STANDARD_FIELDS
    assert {"login", "password", "port"} <= set(behaviour["placeholders"])
    assert not set(behaviour["hidden-fields"]) & set(behaviour["placeholders"])
    # port stays visible so that users can store the 0 the Test button of Airflow 3.3.2 needs.
    assert "port" not in behaviour["hidden-fields"]
    assert "0" in behaviour["placeholders"]["port"] and "Test" in behaviour["relabeling"]["port"]
    # Placeholders read as product text, not as notes to developers.
    for text in behaviour["placeholders"].values():
        assert "README" not in text and "Airflow 3" not in text and "auth_type" not in text, text


def test_extra_field_formats_are_values_the_hook_accepts() -> None:
    """The examples the form offers for region, endpoints, verify and the timeout default really work."""
    from airflow.sdk import Connection

    from airflow_provider_modelarts.hooks.connection import DEFAULT_TIMEOUT, ModelArtsConnectionSettings

    fields = _conn_type(get_provider_info())["conn-fields"]
    examples = {name: spec["schema"].get("examples") for name, spec in fields.items()}
    assert {name for name, values in examples.items() if values} == {
        "region",
        "endpoint",
        "iam_endpoint",
        "verify",
        "console_url",
    }
    assert fields["timeout"]["schema"]["default"] == DEFAULT_TIMEOUT
    assert f"default {fields['timeout']['schema']['default']}" in fields["timeout"]["description"]

    def settings(**extra: Any) -> ModelArtsConnectionSettings:
        conn = Connection(
            conn_id="form_example",
            conn_type="modelarts",
            login="AK",
            password="SK",
            port=0,  # what users store on Airflow 3.3.2 for the Test button: it must change nothing
            extra=json.dumps({"project_id": "0123456789abcdef0123456789abcdef", **extra}),
        )
        return ModelArtsConnectionSettings.from_connection(conn)

    for region in examples["region"]:
        derived = settings(region=region)
        assert derived.region == region and region in derived.base_url
    (endpoint,) = examples["endpoint"]
    assert settings(endpoint=endpoint).base_url == endpoint
    (iam_endpoint,) = examples["iam_endpoint"]
    password_auth = settings(
        region="cn-north-4", auth_type="password", domain_name="account", iam_endpoint=iam_endpoint
    )
    assert password_auth.iam_endpoint == iam_endpoint
    verify = [settings(region="cn-north-4", verify=value).verify for value in examples["verify"]]
    assert verify == [True, False]
    assert settings(region="cn-north-4", timeout=fields["timeout"]["schema"]["default"]).timeout == 30.0
    for console in examples["console_url"]:
        assert settings(region="eu-de", console_url=console).console_url == console


def test_the_form_marks_required_only_what_every_connection_needs() -> None:
    """The 3.3 form marks a field required (asterisk, error while empty) when its type does not allow null.
    Only the project ID is needed by every connection; the rest depends on the auth type or is optional."""
    fields = _conn_type(get_provider_info())["conn-fields"]
    required = {name for name, spec in fields.items() if "null" not in spec["schema"]["type"]}
    assert required == {"project_id"}
    assert fields["project_id"]["schema"]["type"] == "string"


@needs_metadata_connection_form
def test_hook_meta_api_serves_labels_placeholders_and_formats() -> None:
    """What the UI's Add Connection form receives (the service behind ``/ui/connections/hook_meta``)."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "modelarts"]
    conn_type = _conn_type(get_provider_info())
    behaviour, fields = conn_type["ui-field-behaviour"], conn_type["conn-fields"]
    assert meta.hook_name == conn_type["hook-name"]
    standard = meta.standard_fields
    assert standard is not None
    for name in ("login", "password", "port"):
        served = getattr(standard, name)
        assert (served.title, served.placeholder, served.hidden) == (
            behaviour["relabeling"][name],
            behaviour["placeholders"][name],
            False,
        )
    assert standard.host is not None and standard.host.hidden
    assert standard.url_schema is not None and standard.url_schema.hidden
    extra = meta.extra_fields
    assert extra is not None and set(extra) == set(fields)
    for name, spec in fields.items():
        served_schema = extra[name]["schema"]
        assert served_schema["title"] == spec["label"], name
        assert extra[name]["description"] == spec["description"], name
        assert served_schema.get("examples") == spec["schema"].get("examples"), name
        assert extra[name]["value"] == spec["schema"].get("default"), name


# README facts that follow the code (issue 25 item 14: a miscounted example list, a misquoted form label).
README = Path(__file__).resolve().parents[2] / "README.md"
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def test_the_readme_quotes_the_forms_relabeled_port_as_the_package_labels_it() -> None:
    readme = " ".join(README.read_text(encoding="utf-8").split())  # a quote may wrap across lines
    relabeling = _conn_type(get_provider_info())["ui-field-behaviour"]["relabeling"]
    quoted = re.findall(r"\*(Port \([^)]*\))\*", readme)
    assert quoted and set(quoted) == {relabeling["port"]}


def test_the_readme_counts_the_example_dags() -> None:
    dags = sorted((README.parent / "dags_examples").glob("*.py"))
    assert f"holds {NUMBER_WORDS[len(dags)]} complete pipelines" in README.read_text(encoding="utf-8")
