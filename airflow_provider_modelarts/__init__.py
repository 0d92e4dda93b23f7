"""Apache Airflow provider for Huawei Cloud ModelArts data labeling."""

from __future__ import annotations

import copy
from typing import Any

__version__ = "0.1.0"

__all__ = ["get_provider_info"]

_INTEGRATION = "Huawei Cloud ModelArts"

# Format examples for the connection form. Regions are real ModelArts regions (eu-de is Open Telekom Cloud).
_REGION_EXAMPLES = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1", "ap-southeast-3", "eu-de")
_ENDPOINT_EXAMPLE = "https://modelarts.cn-north-4.myhuaweicloud.com"
_IAM_ENDPOINT_EXAMPLE = "https://iam.cn-north-4.myhuaweicloud.com"
_CONSOLE_EXAMPLES = ("https://console.huaweicloud.com", "https://console.otc.t-systems.com")
# Mirrors hooks.connection.DEFAULT_TIMEOUT without importing the hook (see get_provider_info); a unit test
# checks that the two agree.
_DEFAULT_TIMEOUT = 30

# Extra fields of the ``modelarts`` connection. Airflow (3.2+) builds the connection form from this metadata
# without importing the hook; values land in the connection's extra under these short names. The hook also
# reads the older ``extra__modelarts__<name>`` spelling, which the form used before Airflow 3.
#
# How a format reaches the form (checked in Airflow 3.3.2's API server and UI bundle): the API serves each
# field's ``schema`` as is, and the UI's text input shows ``schema.examples`` as a pick list (HTML datalist,
# input placeholder "Start typing to see options") and ``schema.default`` as the initial value; the
# description is shown under the field. ``ui-field-behaviour`` placeholders reach only the standard fields
# (login, password, port, ...): the API drops them for extra fields. So the formats live in ``examples``
# (real values a user may pick), ``default`` and the description, not in placeholders.
#
# Required: the UI marks a field required (an asterisk, and an error while it is empty) when its schema type
# does not allow null, so ``project_id`` is typed "string"; every other field is optional or required only
# for one auth type (or one of two, region or endpoint), which the form cannot express: the hook says so.
_CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_type": {
        "label": "Auth type",
        "description": (
            "aksk: sign every request with the Access Key / Secret Key in the login / password fields "
            "(add a security token for temporary credentials). password: get an IAM token with an IAM "
            "user's password."
        ),
        "schema": {"type": ["string", "null"], "enum": ["aksk", "password"], "default": "aksk"},
    },
    "project_id": {
        "label": "Project ID",
        "description": (
            "ID of the project (region) the datasets belong to, 32 hexadecimal characters, e.g. "
            "0123456789abcdef0123456789abcdef (console: My Credentials > API Credentials). Part of every API "
            "path."
        ),
        "schema": {"type": "string"},
    },
    "region": {
        "label": "Region",
        "description": (
            "Region name, e.g. cn-north-4 or eu-de. Selects the ModelArts and IAM endpoints unless they are "
            "set explicitly, and the console for links."
        ),
        "schema": {"type": ["string", "null"], "examples": list(_REGION_EXAMPLES)},
    },
    "endpoint": {
        "label": "ModelArts endpoint",
        "description": (
            f"Override of the ModelArts API base URL, e.g. {_ENDPOINT_EXAMPLE} or a local emulator. Leave "
            "empty to derive it from the region."
        ),
        "schema": {"type": ["string", "null"], "format": "uri", "examples": [_ENDPOINT_EXAMPLE]},
    },
    "console_url": {
        "label": "Console URL",
        "description": (
            "Base URL of the web console the ModelArts Dataset / Team Task links open, for private clouds "
            "and the local emulator. Leave empty for the public console of the region."
        ),
        "schema": {"type": ["string", "null"], "format": "uri", "examples": list(_CONSOLE_EXAMPLES)},
    },
    "security_token": {
        "label": "Security token",
        "description": "Only for temporary AK/SK credentials: the security token issued with them.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "iam_endpoint": {
        "label": "IAM endpoint",
        "description": (
            f"auth_type password only: IAM base URL, e.g. {_IAM_ENDPOINT_EXAMPLE}. Leave empty to derive it "
            "from the region."
        ),
        "schema": {"type": ["string", "null"], "format": "uri", "examples": [_IAM_ENDPOINT_EXAMPLE]},
    },
    "domain_name": {
        "label": "Account (domain) name",
        "description": "auth_type password only: the account (domain) the IAM user belongs to.",
        "schema": {"type": ["string", "null"]},
    },
    "user_name": {
        "label": "IAM user name",
        "description": "auth_type password only: IAM user name. Defaults to the login field.",
        "schema": {"type": ["string", "null"]},
    },
    "user_password": {
        "label": "IAM user password",
        "description": "auth_type password only: IAM user's password. Defaults to the password field.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "verify": {
        "label": "Verify TLS",
        "description": "true (default), false, or the path of a CA bundle file on the workers.",
        "schema": {"type": ["string", "null"], "examples": ["true", "false"]},
    },
    "timeout": {
        "label": "Timeout (seconds)",
        # A number input shows no examples; the hook's default as the initial value shows the unit's scale.
        "description": f"Timeout of each HTTP request in seconds (default {_DEFAULT_TIMEOUT}).",
        "schema": {"type": ["number", "null"], "minimum": 0, "default": _DEFAULT_TIMEOUT},
    },
}

# The endpoint is an extra field with its own label; ``host`` still works as a fallback when set through a URI
# or JSON, but the form only shows one place for it. Schema means nothing for ModelArts.
#
# ``port`` means nothing either, but it stays visible: the connection list's Test button of Airflow 3.3.2
# sends ``port: 0`` for a connection stored without a port, and the API then answers 400 because 0 differs
# from the stored NULL (apache/airflow#73298). Nothing in the provider metadata changes what that button sends
# (it is built from the stored row), so the form lets users store the 0 that makes it work.
_UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["host", "schema"],
    "relabeling": {
        "login": "Access Key (AK)",
        "password": "Secret Key (SK)",
        "port": "Port (not used; 0 for Test)",
    },
    "placeholders": {
        "login": "Access key ID, or the IAM user name for password auth",
        "password": "Secret access key, or the IAM user's password for password auth",
        "port": "Enter 0 to use the Test button",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow (entry point ``apache_airflow_provider``).

    Kept import-light on purpose: Airflow calls this for every CLI command and API server start, so it must
    not import the hook, httpx or pydantic.
    """
    return {
        "package-name": "airflow-provider-modelarts",
        "name": _INTEGRATION,
        "description": (
            "Run `Huawei Cloud ModelArts <https://www.huaweicloud.com/intl/en-us/product/modelarts.html>`__ "
            "data labeling as Airflow pipelines: add samples, update labels, and run team labeling "
            "acceptance."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://support.huaweicloud.com/intl/en-us/api-modelarts/modelarts_03_0001.html",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider_modelarts.hooks.modelarts"],
            }
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider_modelarts.operators.samples",
                    "airflow_provider_modelarts.operators.labels",
                    "airflow_provider_modelarts.operators.acceptance",
                    "airflow_provider_modelarts.operators.team_tasks",
                    "airflow_provider_modelarts.operators.export",
                    "airflow_provider_modelarts.operators.import_tasks",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider_modelarts.sensors.acceptance"],
            }
        ],
        "triggers": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider_modelarts.triggers.acceptance",
                    "airflow_provider_modelarts.triggers.import_tasks",
                ],
            }
        ],
        # modelarts:// Asset URIs (see assets.py): Airflow calls the handler for every such URI, the factory
        # builds one, and the openlineage provider converts one into an OpenLineage dataset.
        "asset-uris": [
            {
                "schemes": ["modelarts"],
                "handler": "airflow_provider_modelarts.assets.sanitize_uri",
                "factory": "airflow_provider_modelarts.assets.create_asset",
                "to_openlineage_converter": "airflow_provider_modelarts.lineage.convert_asset_to_openlineage",
            }
        ],
        # Airflow must know these classes to show the buttons for serialized DAGs.
        "extra-links": [
            "airflow_provider_modelarts.links.ModelArtsDatasetLink",
            "airflow_provider_modelarts.links.ModelArtsTeamTaskLink",
        ],
        "connection-types": [
            {
                "connection-type": "modelarts",
                "hook-class-name": "airflow_provider_modelarts.hooks.modelarts.ModelArtsHook",
                "hook-name": "Huawei Cloud ModelArts",
                "ui-field-behaviour": copy.deepcopy(_UI_FIELD_BEHAVIOUR),
                "conn-fields": copy.deepcopy(_CONN_FIELDS),
            }
        ],
    }
