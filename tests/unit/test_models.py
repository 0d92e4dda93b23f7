"""Tests of ``models.py``: the spec examples round-trip, the public names, parse_response."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from airflow_provider_modelarts import models
from airflow_provider_modelarts.models import (
    RESPONSE_CONTEXT,
    STRICT_INPUT_CONTEXT,
    AcceptanceAction,
    AcceptanceReport,
    CreateWorkforceSamplingTaskRequest,
    LabelType,
    ListSamplesResponse,
    SampleLabel,
    SampleStatus,
    SampleType,
    TaskStatus,
    UpdateSamplesRequest,
    UpdateWorkforceSamplingTaskRequest,
    UpdateWorkforceTaskSamplesRequest,
    UploadSamplesRequest,
    UploadSamplesResponse,
    WorkforceTask,
    parse_response,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


# Example requests and responses copied from the API pages in ../shared/spec (page, model name, JSON), kept as
# data: tests/unit/data/models_spec_examples.json.
_EXAMPLES_FILE = Path(__file__).resolve().parent / "data" / "models_spec_examples.json"
SPEC_EXAMPLES: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    (case["page"], getattr(models, case["model"]), case["example"])
    for case in json.loads(_EXAMPLES_FILE.read_text(encoding="utf-8"))
]


REQUEST_MODELS = (
    UploadSamplesRequest,
    UpdateSamplesRequest,
    UpdateWorkforceTaskSamplesRequest,
    UpdateWorkforceSamplingTaskRequest,
    CreateWorkforceSamplingTaskRequest,
)


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [case[0] for case in cases]


def _example(model_cls: type[BaseModel]) -> dict[str, Any]:
    return next(example for _, cls, example in SPEC_EXAMPLES if cls is model_cls)


@pytest.mark.parametrize(("page", "model_cls", "example"), SPEC_EXAMPLES, ids=_ids(SPEC_EXAMPLES))
@pytest.mark.parametrize("context", [None, RESPONSE_CONTEXT], ids=["default", "response"])
def test_spec_example_round_trips(
    page: str, model_cls: type[BaseModel], example: dict[str, Any], context: Any
) -> None:
    model = model_cls.model_validate(example, context=context)
    assert to_payload(model) == example
    assert json.loads(model.model_dump_json(by_alias=True, exclude_none=True)) == example


@pytest.mark.parametrize(
    ("page", "model_cls", "example"),
    [case for case in SPEC_EXAMPLES if case[1] in REQUEST_MODELS],
    ids=_ids([case for case in SPEC_EXAMPLES if case[1] in REQUEST_MODELS]),
)
def test_spec_example_requests_pass_strict_input(
    page: str, model_cls: type[BaseModel], example: dict[str, Any]
) -> None:
    model = model_cls.model_validate(example, context=STRICT_INPUT_CONTEXT)
    assert to_payload(model) == example


def test_every_spec_page_has_examples() -> None:
    pages = {case[0].rsplit(" ", 1)[0] for case in SPEC_EXAMPLES}
    assert len(pages) == 10
    assert {case[1] for case in SPEC_EXAMPLES} >= {*REQUEST_MODELS, WorkforceTask, AcceptanceReport}


def test_example_values_become_enums() -> None:
    task = WorkforceTask.model_validate(_example(WorkforceTask))
    assert task.status is TaskStatus.RUNNING
    assert task.checking_task_desc is not None
    assert task.checking_task_desc.action is AcceptanceAction.PASS_ALL
    assert task.checking_task_id == "onSbri2oqYOmDjDyW17"
    assert task.sample_stats is not None and task.sample_stats.accepted_sample_count == 7
    assert task.workforce_stats is not None and task.workforce_stats.labeler_count == 1
    samples = ListSamplesResponse.model_validate(_example(ListSamplesResponse)).samples
    assert samples is not None
    assert samples[0].sample_status is SampleStatus.MANUAL_ANNOTATION
    assert samples[0].sample_type is SampleType.IMAGE
    assert samples[0].labels is not None and samples[0].labels[0].type is LabelType.IMAGE_CLASSIFICATION
    assert samples[0].metadata is not None and samples[0].metadata.import_origin == 0


def test_unknown_response_fields_are_kept_at_every_level() -> None:
    body = _example(WorkforceTask) | {"new_top": {"a": 1}}
    body["sample_stats"] = body["sample_stats"] | {"new_count": 5}
    body["worker_stats"][0]["new_flag"] = True
    task = parse_response(WorkforceTask, body)
    assert task.model_extra == {"new_top": {"a": 1}}
    assert task.sample_stats is not None and task.sample_stats.model_extra == {"new_count": 5}
    assert to_payload(task) == body


def test_parse_response_accepts_raw_json_bytes() -> None:
    reply = parse_response(
        UploadSamplesResponse,
        b'{"success": false, "results": [{"success": false, "error_code": "ModelArts.4422"}]}',
    )
    assert reply.success is False
    assert [(i, r.error_code) for i, r in reply.failures()] == [(0, "ModelArts.4422")]


def test_every_public_model_has_a_json_schema() -> None:
    # The emulator's FastAPI app and doc generators need schemas; enum fields must list their options.
    import airflow_provider_modelarts.models as models

    model_classes = [
        obj
        for name in models.__all__
        if isinstance(obj := getattr(models, name), type) and issubclass(obj, BaseModel)
    ]
    assert len(model_classes) > 40
    for model_cls in model_classes:
        for mode in ("validation", "serialization"):
            schema = model_cls.model_json_schema(mode=mode)
            if "$ref" in schema:  # self-referencing models (BatchResponse) are described in $defs
                schema = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
            assert schema["type"] == "object" and schema["title"] == model_cls.__name__
    label_type = SampleLabel.model_json_schema()["properties"]["type"]["anyOf"][0]
    assert label_type["type"] == "integer" and 600 in label_type["enum"]


def test_public_names_are_exported() -> None:
    import airflow_provider_modelarts.models as models

    assert len(models.__all__) == len(set(models.__all__))
    assert all(hasattr(models, name) for name in models.__all__)


def test_one_sample_size_limit_exported_from_models() -> None:
    import airflow_provider_modelarts.models as models
    from airflow_provider_modelarts._models import _rules

    assert models.MAX_SAMPLE_BYTES == 12_582_912
    assert _rules.MAX_SAMPLE_BYTES is models.MAX_SAMPLE_BYTES
    assert "MAX_SAMPLE_BYTES" in models.__all__


def test_models_use_no_private_pydantic_names() -> None:
    """Issue 11: nothing in the models reaches into pydantic's private attributes (``__pydantic_*``)."""
    from pathlib import Path

    import airflow_provider_modelarts.models as models

    package = Path(models.__file__).parent
    sources = [package / "models.py", *sorted((package / "_models").glob("*.py"))]
    assert len(sources) > 5
    offenders = [p.name for p in sources if "__pydantic_" in p.read_text(encoding="utf-8")]
    assert offenders == []
    assert not (package / "_models" / "_fast.py").exists()
