"""Tests of ``models.py``: the spec examples round-trip, the public names, parse_response."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from airflow_provider_modelarts.models import (
    RESPONSE_CONTEXT,
    STRICT_INPUT_CONTEXT,
    AcceptanceAction,
    AcceptanceReport,
    BatchResponse,
    CreateWorkforceSamplingTaskRequest,
    CreateWorkforceSamplingTaskResponse,
    DescribeSampleResp,
    LabelType,
    ListSamplesResponse,
    SampleLabel,
    SampleStatus,
    SampleType,
    TaskStatus,
    UpdateAcceptanceStatusResponse,
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


# Example requests and responses copied from the API pages in ../shared/spec (page -> model, JSON).
SPEC_EXAMPLES: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    (
        "003 add samples request",
        UploadSamplesRequest,
        {
            "samples": [
                {
                    "name": "2.jpg",
                    "data": (
                        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRof"
                        "Hh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwh"
                        "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAAR"
                        "CAA1AJUDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
                        "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkK"
                        "FhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWG"
                        "h4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl"
                        "5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL"
                    ),
                }
            ]
        },
    ),
    (
        "003 add samples response",
        UploadSamplesResponse,
        {
            "success": True,
            "results": [
                {
                    "success": True,
                    "name": "/test-obs/classify/input/animals/2.jpg",
                    "info": "960585877c92d63911ba555ab3129d36",
                }
            ],
        },
    ),
    (
        "000 update samples request",
        UpdateSamplesRequest,
        {
            "samples": [
                {"sample_id": "8b583c44bf249f8ba43ea42c92920221", "labels": [{"name": "yunbao"}]},
                {"sample_id": "b5fe3039879660a2e6bf18166e247f68", "labels": [{"name": "yunbao"}]},
            ]
        },
    ),
    (
        "000 update samples response",
        BatchResponse,
        {"success": True},
    ),
    (
        "001/004 update team-task samples request",
        UpdateWorkforceTaskSamplesRequest,
        {
            "samples": [
                {
                    "sample_id": "0a0939d6d3c48a3d2a2619245943ac21",
                    "worker_id": "8c15ad080d3eabad14037b4eb00d6a6f",
                    "labels": [{"name": "tulips"}],
                },
                {
                    "sample_id": "0e1b5a16a5a577ee53aeb34278a4b3e7",
                    "worker_id": "8c15ad080d3eabad14037b4eb00d6a6f",
                    "labels": [{"name": "tulips"}],
                },
            ]
        },
    ),
    (
        "001/004 update team-task samples response",
        BatchResponse,
        {"success": True},
    ),
    (
        "002 acceptance status request",
        UpdateWorkforceSamplingTaskRequest,
        {"action": 0},
    ),
    (
        "002 acceptance status response",
        UpdateAcceptanceStatusResponse,
        {},
    ),
    (
        "related/creating_a_team_labeling_acceptance_task request",
        CreateWorkforceSamplingTaskRequest,
        {"sampling_rate": 0.2},
    ),
    (
        "related/creating_a_team_labeling_acceptance_task response",
        CreateWorkforceSamplingTaskResponse,
        {"task_id": "nv6BbozxCJmZcHAE9hV"},
    ),
    (
        "related/querying_details_about_a_team_labeling_task response",
        WorkforceTask,
        {
            "dataset_id": "WxCREuCkBSAlQr9xrde",
            "task_id": "iYZx7gScPUozOXner9k",
            "task_name": "task-e63f",
            "status": 1,
            "create_time": 1606184400278,
            "update_time": 1606184400278,
            "repetition": 1,
            "workforces_config": {
                "workforces": [
                    {
                        "workforce_id": "q3ZFSwORu1ztKljDLYQ",
                        "workers": [
                            {
                                "email": "xxx@xxx.com",
                                "worker_id": "afdda13895bc66322ffbf36ae833bcf0",
                                "role": 0,
                            }
                        ],
                    }
                ]
            },
            "synchronize_data": False,
            "synchronize_auto_labeling_data": False,
            "workforce_stats": {"workforce_count": 1, "labeler_count": 1, "reviewer_count": 0},
            "sample_stats": {
                "total_sample_count": 317,
                "unannotated_sample_count": 310,
                "unreviewed_sample_count": 0,
                "uncheck_sample_count": 0,
                "sampled_sample_count": 0,
                "rejected_sample_count": 0,
                "accepted_sample_count": 7,
                "auto_annotation_sample_count": 0,
            },
            "checking_task_desc": {
                "checking_task_id": "onSbri2oqYOmDjDyW17",
                "action": 0,
                "overwrite_last_result": False,
            },
            "auto_sync_dataset": True,
            "worker_stats": [
                {
                    "email": "xxx@xxx.com",
                    "worker_id": "afdda13895bc66322ffbf36ae833bcf0",
                    "role": 0,
                    "task_id": "iYZx7gScPUozOXner9k",
                    "workforce_task_name": "task-e63f",
                    "dataset_id": "WxCREuCkBSAlQr9xrde",
                    "sample_stats": {
                        "total_sample_count": 317,
                        "unannotated_sample_count": 310,
                        "unreviewed_sample_count": 0,
                        "uncheck_sample_count": 0,
                        "sampled_sample_count": 0,
                        "rejected_sample_count": 0,
                        "accepted_sample_count": 7,
                        "auto_annotation_sample_count": 0,
                    },
                    "create_time": 1606184400278,
                    "update_time": 1606184795050,
                    "email_status": 3,
                    "last_notify_time": 0,
                }
            ],
        },
    ),
    (
        "related/querying_the_report_of_a_team_labeling_acceptance_task response",
        AcceptanceReport,
        {
            "total_stats": {
                "sampling_rate": 1.0,
                "sampling_num": 3,
                "pass_rate": 0.0,
                "score": "E",
                "total_score": 0,
                "total_sample_count": 3,
                "sampled_sample_count": 3,
                "unchecked_sample_count": 3,
                "checked_sample_count": 0,
                "accepted_sample_count": 0,
                "rejected_sample_count": 0,
            }
        },
    ),
    (
        "related/querying_the_sample_list response",
        ListSamplesResponse,
        {
            "sample_count": 2,
            "samples": [
                {
                    "sample_id": "012f99f3cf405860130b6ed2350c2228",
                    "sample_type": 0,
                    "labels": [{"name": "car", "type": 0, "property": {}}],
                    "source": (
                        "https://test-obs.obs.xxx.com:443/image/aifood/%E5%86%B0%E6%BF%80%E5%87%8"
                        "C/36502.jpg?AccessKeyId=RciyO7RHmhNTfOZVryUH&Expires=1606296688&x-image-"
                        "process=image%2Fresize%2Cm_lfit%2Ch_200&Signature=icyvHhFew9vnmy3zh1uZMP"
                        "15Mbg%3D"
                    ),
                    "metadata": {"@modelarts:import_origin": 0},
                    "sample_time": 1589190552106,
                    "sample_status": "MANUAL_ANNOTATION",
                    "labelers": [
                        {"email": "xxx@xxx.com", "worker_id": "5d8d4033b428fed5ac158942c33940a2", "role": 0}
                    ],
                },
                {
                    "sample_id": "0192f3acfb000666033a0f85c21577c7",
                    "sample_type": 0,
                    "labels": [{"name": "car", "type": 0, "property": {}}],
                    "source": (
                        "https://test-obs.obs.xxx.com:443/image/aifood/%E5%86%B0%E6%BF%80%E5%87%8"
                        "C/36139.jpg?AccessKeyId=RciyO7RHmhNTfOZVryUH&Expires=1606296688&x-image-"
                        "process=image%2Fresize%2Cm_lfit%2Ch_200&Signature=RRr9r2cghLCXk%2B0%2BfH"
                        "tYJi8eZ4k%3D"
                    ),
                    "metadata": {"@modelarts:import_origin": 0},
                    "sample_time": 1589190543327,
                    "sample_status": "MANUAL_ANNOTATION",
                    "labelers": [
                        {"email": "xxx@xxx.com", "worker_id": "a2abd3f27b4e92c593c15282f8b6bd29", "role": 0}
                    ],
                },
            ],
        },
    ),
    (
        "related/querying_the_sample_list_of_a_team_labeling_task_by_page response",
        ListSamplesResponse,
        {
            "sample_count": 2,
            "samples": [
                {
                    "sample_id": "26c6dd793d80d3274eb89349ec76d678",
                    "sample_type": 0,
                    "labels": [],
                    "source": (
                        "https://test-obs.obs.xxx.com:443/detect/data/dataset-car-and-person/IMG_"
                        "kitti_0000_000016.png?AccessKeyId=P19W9X830R1Z39P5X5M5&Expires=160630013"
                        "7&x-obs-security-token=gQpjbi1ub3J0aC03jKj8N6gtS4VsdTTW3QFoHMtpMoFLtCa6W"
                        "_J4DxT0nYIfx..."
                    ),
                    "metadata": {"@modelarts:import_origin": 0, "@modelarts:size": [1242, 375, 3]},
                    "sample_time": 1598263639997,
                    "sample_status": "UN_ANNOTATION",
                    "worker_id": "8c15ad080d3eabad14037b4eb00d6a6f",
                    "labelers": [
                        {"email": "xxx@xxx.com", "worker_id": "afdda13895bc66322ffbf36ae833bcf0", "role": 0}
                    ],
                },
                {
                    "sample_id": "2971815bbb11a462161b48dddf19344f",
                    "sample_type": 0,
                    "labels": [],
                    "source": (
                        "https://test-obs.obs.xxx.com:443/detect/data/dataset-car-and-person/IMG_"
                        "kitti_0000_000011.png?AccessKeyId=P19W9X830R1Z39P5X5M5&Expires=160630013"
                        "7&x-obs-security-token=gQpjbi1ub3J0aC03jKj8N6gtS4VsdTTW3QFoHMtpMoFLtC..."
                    ),
                    "metadata": {"@modelarts:import_origin": 0, "@modelarts:size": [1242, 375, 3]},
                    "sample_time": 1598263639997,
                    "sample_status": "UN_ANNOTATION",
                    "worker_id": "8c15ad080d3eabad14037b4eb00d6a6f",
                    "labelers": [
                        {"email": "xxx@xxx.com", "worker_id": "305595e1901a526017d2e11f3ab0ffe1", "role": 0}
                    ],
                },
            ],
        },
    ),
    (
        "related/querying_details_about_a_sample response",
        DescribeSampleResp,
        {
            "sample_id": "012f99f3cf405860130b6ed2350c2228",
            "sample_type": 0,
            "labels": [{"name": "car", "type": 0, "property": {}}],
            "source": (
                "https://test-obs.obs.xxx.com:443/image/aifood/%E5%86%B0%E6%BF%80%E5%87%8"
                "C/36502.jpg?AccessKeyId=RciyO7RHmhNTfOZVryUH&Expires=1606297079&Signatur"
                "e=Ju4FYpEu973ii%2FAdUVLTfpLCTbg%3D"
            ),
            "metadata": {"@modelarts:import_origin": 0},
            "sample_time": 1589190552106,
            "sample_status": "MANUAL_ANNOTATION",
            "labelers": [
                {"email": "xxx@xxx.com", "worker_id": "5d8d4033b428fed5ac158942c33940a2", "role": 0}
            ],
        },
    ),
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
