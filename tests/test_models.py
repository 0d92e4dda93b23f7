"""Tests of the models: the spec examples round-trip and every rule rejects bad input naming the field."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from airflow_provider_modelarts.models import (
    MAX_SAMPLE_BYTES,
    RESPONSE_CONTEXT,
    STRICT_INPUT_CONTEXT,
    AcceptanceAction,
    AcceptanceReport,
    AnnotatedBy,
    BatchResponse,
    CreateWorkforceSamplingTaskRequest,
    CreateWorkforceSamplingTaskResponse,
    DataSourceType,
    DescribeSampleResp,
    LabelFormat,
    LabelType,
    ListSamplesResponse,
    Sample,
    SampleLabel,
    SampleLabelProperty,
    SampleLabels,
    SampleMetadata,
    SampleProblem,
    SampleStatus,
    SampleType,
    SampleUsage,
    SampleValidationError,
    Shape,
    SourceInfo,
    StrEnum,
    TaskStatus,
    UpdateAcceptanceStatusResponse,
    UpdateSamplesRequest,
    UpdateSamplesResponse,
    UpdateWorkforceSamplingTaskRequest,
    UpdateWorkforceTaskSamplesRequest,
    UploadSamplesRequest,
    UploadSamplesResponse,
    WorkforceTask,
    format_loc,
    parse_response,
    parse_sample,
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


# --------------------------------------------------------------------------------------------- round trips


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


def _example(model_cls: type[BaseModel]) -> dict[str, Any]:
    return next(example for _, cls, example in SPEC_EXAMPLES if cls is model_cls)


def test_aliases_and_python_names_are_both_accepted_and_dump_as_spec_keys() -> None:
    by_alias = SampleLabelProperty.model_validate({"@modelarts:from": "h", "@modelarts:to": "t"})
    by_name = SampleLabelProperty(from_="h", to="t")
    assert by_alias == by_name
    assert to_payload(by_name) == {"@modelarts:from": "h", "@modelarts:to": "t"}
    metadata = SampleMetadata(size=[10, 20, 3], hard_reasons=[1, 3])
    assert to_payload(metadata) == {"@modelarts:size": [10, 20, 3], "@modelarts:hard_reasons": [1, 3]}


def test_feature_keeps_int_and_float_coordinates() -> None:
    raw = {"@modelarts:shape": "polygon", "@modelarts:feature": [[0, 1.5], [10, 2], [3.25, 40]]}
    dumped = to_payload(SampleLabelProperty.model_validate(raw))
    assert dumped == raw
    assert [type(v) for point in dumped["@modelarts:feature"] for v in point] == [
        int,
        float,
        int,
        int,
        float,
        int,
    ]


# --------------------------------------------------------------------------------------- unknown fields


def test_unknown_response_fields_are_kept_at_every_level() -> None:
    body = _example(WorkforceTask) | {"new_top": {"a": 1}}
    body["sample_stats"] = body["sample_stats"] | {"new_count": 5}
    body["worker_stats"][0]["new_flag"] = True
    task = parse_response(WorkforceTask, body)
    assert task.model_extra == {"new_top": {"a": 1}}
    assert task.sample_stats is not None and task.sample_stats.model_extra == {"new_count": 5}
    assert to_payload(task) == body


def test_unknown_enum_values_from_the_service_are_kept() -> None:
    task = parse_response(WorkforceTask, {"status": 42, "checking_task_desc": {"action": 9}})
    assert task.status == 42 and not isinstance(task.status, TaskStatus)
    sample = parse_response(DescribeSampleResp, {"sample_status": "SOMETHING_NEW", "sample_type": 11})
    assert sample.sample_status == "SOMETHING_NEW"
    assert sample.sample_type == 11
    assert to_payload(sample) == {"sample_status": "SOMETHING_NEW", "sample_type": 11}


def test_response_context_skips_value_rules_but_default_enforces_them() -> None:
    body = {
        "labels": [
            {"score": 1.5, "property": {"@modelarts:shape": "bndbox", "@modelarts:feature": [[9, 9], [1, 1]]}}
        ]
    }
    assert to_payload(parse_response(DescribeSampleResp, body)) == body
    with pytest.raises(ValidationError, match="must be between 0 and 1"):
        DescribeSampleResp.model_validate(body)


def test_parse_response_accepts_raw_json_bytes() -> None:
    reply = parse_response(
        UploadSamplesResponse,
        b'{"success": false, "results": [{"success": false, "error_code": "ModelArts.4422"}]}',
    )
    assert reply.success is False
    assert [(i, r.error_code) for i, r in reply.failures()] == [(0, "ModelArts.4422")]


@pytest.mark.parametrize(
    ("data", "field", "hint"),
    [
        ({"nmae": "a.jpg"}, "nmae", "did you mean 'name'?"),
        ({"labels": [{"scor": 0.5}]}, "labels[0].scor", "did you mean 'score'?"),
        (
            {"labels": [{"property": {"@modelarts:shap": "bndbox"}}]},
            "labels[0].property.@modelarts:shap",
            "did you mean '@modelarts:shape'?",
        ),
        (
            {"metadata": {"@modelarts:sise": [1, 2]}},
            "metadata.@modelarts:sise",
            "did you mean '@modelarts:size'?",
        ),
        ({"data_source": {"source_info": {"zzz": 1}}}, "data_source.source_info.zzz", ""),
    ],
)
def test_strict_input_rejects_unknown_keys_naming_them(data: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, data, 4)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert problem.message.startswith("unknown field")
    assert hint in problem.message
    # The plain pydantic error names the key too (as its location).
    with pytest.raises(ValidationError) as raw:
        Sample.model_validate(data, context=STRICT_INPUT_CONTEXT)
    assert field.endswith(f".{raw.value.errors()[0]['loc'][-1]}") or field == raw.value.errors()[0]["loc"][-1]


def test_strict_input_allows_custom_label_attributes_and_metadata() -> None:
    data = {
        "labels": [
            {
                "name": "cat",
                "property": {"color": "red", "@modelarts:shape": "point", "@modelarts:feature": [[1, 2]]},
            }
        ],
        "metadata": {"camera": "front", "@modelarts:size": [10, 10]},
    }
    sample = parse_sample(Sample, data, 0)
    assert sample.labels is not None and sample.labels[0].property is not None
    assert sample.labels[0].property.model_extra == {"color": "red"}
    assert to_payload(sample) == data


def test_without_strict_input_unknown_keys_are_kept() -> None:
    sample = Sample.model_validate({"name": "a.jpg", "future_field": 1})
    assert to_payload(sample) == {"name": "a.jpg", "future_field": 1}


# ------------------------------------------------------------------------------------------------- enums


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (AcceptanceAction.CANCEL, AcceptanceAction.CANCEL),
        (0, AcceptanceAction.PASS_ALL),
        (5, AcceptanceAction.PASS_SINGLE_ACCEPTED),
        ("1", AcceptanceAction.REJECT_ALL),
        (" 3 ", AcceptanceAction.VIEW_CONFLICTS),
        ("pass_all", AcceptanceAction.PASS_ALL),
        ("PASS-ALL", AcceptanceAction.PASS_ALL),
        ("Reject All", AcceptanceAction.REJECT_ALL),
        ("pass_single_accepted_and_unaccepted", AcceptanceAction.PASS_SINGLE_ACCEPTED_AND_UNACCEPTED),
    ],
)
def test_acceptance_action_parse(value: Any, expected: AcceptanceAction) -> None:
    assert AcceptanceAction.parse(value) is expected


@pytest.mark.parametrize("value", [6, -1, "6", "approve", "", True, None, 1.0])
def test_acceptance_action_parse_rejects_listing_valid_names(value: Any) -> None:
    with pytest.raises(ValueError, match=r"expected one of: PASS_ALL \(0\), REJECT_ALL \(1\), CANCEL \(2\)"):
        AcceptanceAction.parse(value)


@pytest.mark.parametrize(
    ("enum_cls", "value", "expected"),
    [
        (SampleStatus, "all", SampleStatus.ALL),
        (SampleStatus, "__ACCEPTED__", SampleStatus.ACCEPTED),
        (SampleStatus, "workforce_sampled_uncheck", SampleStatus.WORKFORCE_SAMPLED_UNCHECK),
        (Shape, "BNDBOX", Shape.BNDBOX),
        (AnnotatedBy, "Human", AnnotatedBy.HUMAN),
        (SampleUsage, "train", SampleUsage.TRAIN),
        (TaskStatus, "accepting", TaskStatus.ACCEPTING),
        (LabelType, "600", LabelType.VIDEO_LABELING),
        (DataSourceType, "obs", DataSourceType.OBS),
    ],
)
def test_every_enum_parses_names_and_values(enum_cls: Any, value: str, expected: Any) -> None:
    assert enum_cls.parse(value) is expected


def test_enum_values_match_the_pages() -> None:
    assert [int(m) for m in SampleType] == [0, 1, 2, 4, 6, 9]
    assert [int(m) for m in TaskStatus] == list(range(8))
    assert [int(m) for m in AcceptanceAction] == list(range(6))
    assert [int(m) for m in DataSourceType] == list(range(7))
    assert {int(m) for m in LabelType} >= {0, 1, 3, 100, 101, 102, 103, 200, 201, 202, 600}
    assert [str(m) for m in Shape] == ["bndbox", "polygon", "circle", "line", "dashed", "point", "polyline"]
    assert str(SampleStatus.ALL) == "__ALL__" and f"{AnnotatedBy.AUTO}" == "auto"
    assert str(AcceptanceAction.PASS_SINGLE_ACCEPTED) == "5" and f"{TaskStatus.ACCEPTED}" == "3"
    assert issubclass(SampleStatus, StrEnum) and SampleStatus.NONE == "__NONE__"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sample_type": 5}, "sample_type"),
        ({"labels": [{"type": 7}]}, "labels[0].type"),
        ({"labels": [{"annotated_by": "robot"}]}, "labels[0].annotated_by"),
        ({"labels": [{"property": {"@modelarts:shape": "box"}}]}, "labels[0].property.@modelarts:shape"),
        ({"data_source": {"data_type": 9}}, "data_source.data_type"),
    ],
)
def test_strict_input_rejects_undocumented_enum_values(data: dict[str, Any], field: str) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, data, 0)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert problem.message.startswith("must be one of: ")


def test_strict_input_accepts_enum_names() -> None:
    labels = parse_sample(
        SampleLabels,
        {"sample_id": "s1", "sample_usage": "eval", "labels": [{"type": "text_classification"}]},
        0,
    )
    assert labels.sample_usage is SampleUsage.EVAL
    assert to_payload(labels) == {"sample_id": "s1", "sample_usage": "EVAL", "labels": [{"type": 100}]}


@pytest.mark.parametrize("action", ["pass_all", 0, "0", AcceptanceAction.PASS_ALL])
def test_acceptance_status_request_normalises_the_action(action: Any) -> None:
    request = UpdateWorkforceSamplingTaskRequest.model_validate(
        {"action": action, "overwrite_last_result": True}
    )
    assert to_payload(request) == {"action": 0, "overwrite_last_result": True}


@pytest.mark.parametrize(
    ("body", "message"), [({"action": 8}, "must be one of: PASS_ALL (0)"), ({}, "Field required")]
)
def test_acceptance_status_request_rejects_bad_or_missing_action(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        UpdateWorkforceSamplingTaskRequest.model_validate(body)
    error = caught.value.errors()[0]
    assert error["loc"] == ("action",)
    assert message in error["msg"]


# ----------------------------------------------------------------------------------------- value rules


def _label(**prop: Any) -> dict[str, Any]:
    return {"labels": [{"name": "x", "property": {f"@modelarts:{k}": v for k, v in prop.items()}}]}


def _shape(shape: str, feature: Any) -> dict[str, Any]:
    return _label(shape=shape, feature=feature)


FEATURE = "labels[0].property.@modelarts:feature"
PROPERTY = "labels[0].property.@modelarts:"

# (case id, model, raw sample, field the problem must name, message fragment)
RULE_VIOLATIONS: list[tuple[str, type[BaseModel], dict[str, Any], str, str]] = [
    ("score above 1", Sample, {"labels": [{"score": 1.01}]}, "labels[0].score", "must be between 0 and 1"),
    (
        "score below 0",
        SampleLabels,
        {"labels": [{"score": -0.1}]},
        "labels[0].score",
        "must be between 0 and 1",
    ),
    ("score NaN", Sample, {"labels": [{"score": float("nan")}]}, "labels[0].score", "must be"),
    (
        "bndbox reversed",
        Sample,
        _shape("bndbox", [[50, 95], [0, 10]]),
        FEATURE,
        "bndbox first point must be above-left of the second",
    ),
    ("bndbox same x", Sample, _shape("bndbox", [[5, 10], [5, 95]]), FEATURE, "above-left"),
    ("bndbox below", Sample, _shape("bndbox", [[0, 95], [50, 10]]), FEATURE, "above-left"),
    (
        "bndbox 3 points",
        Sample,
        _shape("bndbox", [[0, 1], [2, 3], [4, 5]]),
        FEATURE,
        "bndbox must be two points",
    ),
    ("bndbox 3 coords", Sample, _shape("bndbox", [[0, 1, 2], [5, 6]]), FEATURE, "point 0 must be [x, y]"),
    (
        "circle no radius",
        Sample,
        _shape("circle", [[100, 100]]),
        FEATURE,
        "circle must be [[x, y], [radius]]",
    ),
    ("circle 2-number radius", Sample, _shape("circle", [[100, 100], [5, 5]]), FEATURE, "circle must be"),
    ("circle zero radius", Sample, _shape("circle", [[100, 100], [0]]), FEATURE, "circle radius must be > 0"),
    ("point two points", Sample, _shape("point", [[0, 1], [2, 3]]), FEATURE, "point must be one point"),
    (
        "polygon two points",
        Sample,
        _shape("polygon", [[0, 1], [2, 3]]),
        FEATURE,
        "polygon needs at least 3 points",
    ),
    (
        "line three points",
        Sample,
        _shape("line", [[0, 1], [2, 3], [4, 5]]),
        FEATURE,
        "line must be two points",
    ),
    ("dashed one point", Sample, _shape("dashed", [[0, 1]]), FEATURE, "dashed must be two points"),
    ("polyline one point", Sample, _shape("polyline", [[0, 1]]), FEATURE, "polyline needs at least 2 points"),
    (
        "negative coordinate",
        Sample,
        _shape("polygon", [[0, 1], [2, -3], [4, 5]]),
        FEATURE,
        "point 1: coordinates must be >= 0",
    ),
    ("negative without shape", SampleLabels, _label(feature=[[-1, 0]]), FEATURE, "coordinates must be >= 0"),
    ("string coordinate", Sample, _shape("point", [["1", 2]]), FEATURE, "point 0 must contain only numbers"),
    ("bool coordinate", Sample, _shape("point", [[True, 2]]), FEATURE, "only numbers"),
    ("feature not a list", Sample, _shape("point", "1,2"), FEATURE, "must be a list of points"),
    ("point not a list", Sample, _shape("point", [5]), FEATURE, "point 0 must be a list of numbers"),
    ("empty feature, no shape", Sample, _label(feature=[]), FEATURE, "must be a list of [x, y] points"),
    (
        "NER end before start",
        Sample,
        _label(start_index=5, end_index=3),
        PROPERTY + "end_index",
        "must be greater than @modelarts:start_index (5)",
    ),
    (
        "NER end equals start",
        SampleLabels,
        _label(start_index=5, end_index=5),
        PROPERTY + "end_index",
        "must be greater than",
    ),
    (
        "NER negative start",
        Sample,
        _label(start_index=-1, end_index=3),
        PROPERTY + "start_index",
        "must be >= 0",
    ),
    ("NER negative end", Sample, _label(end_index=-2), PROPERTY + "end_index", "must be >= 0"),
    ("time without millis", Sample, _label(start_time="00:00:01"), PROPERTY + "start_time", "hh:mm:ss.SSS"),
    ("time 60 minutes", Sample, _label(end_time="00:60:00.000"), PROPERTY + "end_time", "hh:mm:ss.SSS"),
    (
        "time one-digit hour",
        SampleLabels,
        _label(start_time="1:00:00.000"),
        PROPERTY + "start_time",
        "hh:mm:ss.SSS",
    ),
    (
        "time end before start",
        Sample,
        _label(start_time="00:00:02.000", end_time="00:00:01.999"),
        PROPERTY + "end_time",
        "must not be before @modelarts:start_time",
    ),
    ("label hard flag", Sample, _label(hard="yes"), PROPERTY + "hard", "must be 0, 1, true or false"),
    (
        "label hard coefficient",
        Sample,
        _label(hard_coefficient="1.5"),
        PROPERTY + "hard_coefficient",
        "between 0 and 1",
    ),
    (
        "label hard coefficient text",
        Sample,
        _label(hard_coefficient="high"),
        PROPERTY + "hard_coefficient",
        "must be a number between 0 and 1",
    ),
    ("label hard reasons", Sample, _label(hard_reasons="3,20"), PROPERTY + "hard_reasons", "joined by '-'"),
    ("name too long", Sample, {"name": "a" * 1025}, "name", "must be at most 1024 characters (got 1025)"),
    (
        "size one number",
        Sample,
        {"metadata": {"@modelarts:size": [100]}},
        "metadata.@modelarts:size",
        "[width, height] or [width, height, depth]",
    ),
    (
        "size four numbers",
        SampleLabels,
        {"metadata": {"@modelarts:size": [1, 2, 3, 4]}},
        "metadata.@modelarts:size",
        "[width, height]",
    ),
    (
        "size zero",
        Sample,
        {"metadata": {"@modelarts:size": [0, 100]}},
        "metadata.@modelarts:size",
        "positive integers",
    ),
    (
        "size not ints",
        Sample,
        {"metadata": {"@modelarts:size": [1.5, 100]}},
        "metadata.@modelarts:size[0]",
        "must be an integer",
    ),
    (
        "metadata hard coefficient",
        Sample,
        {"metadata": {"@modelarts:hard_coefficient": 1.2}},
        "metadata.@modelarts:hard_coefficient",
        "must be between 0 and 1",
    ),
    (
        "metadata hard",
        SampleLabels,
        {"metadata": {"@modelarts:hard": 2}},
        "metadata.@modelarts:hard",
        "must be 0 (not a hard sample) or 1",
    ),
    ("encoding", Sample, {"encoding": "latin-1"}, "encoding", "must be one of UTF-8, GBK, GB2312"),
    (
        "object detection without size",
        Sample,
        {"labels": [{"type": 1, "name": "car"}]},
        "metadata.@modelarts:size",
        "is required when a label is object detection",
    ),
    ("score not a number", Sample, {"labels": [{"score": "high"}]}, "labels[0].score", "must be a number"),
    ("labels not a list", Sample, {"labels": {"name": "x"}}, "labels", "must be a list"),
    ("sample id not a string", SampleLabels, {"sample_id": 5}, "sample_id", "must be a string"),
]


@pytest.mark.parametrize(
    ("case", "model_cls", "raw", "field", "message"), RULE_VIOLATIONS, ids=_ids(RULE_VIOLATIONS)
)
def test_rule_violation_names_sample_and_field(
    case: str, model_cls: type[BaseModel], raw: dict[str, Any], field: str, message: str
) -> None:
    raw = {"name": "cat.jpg", **raw} if model_cls is Sample and "name" not in raw else raw
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(model_cls, raw, 7)
    problems = caught.value.problems
    assert [p.field for p in problems] == [field]
    assert message in problems[0].message
    assert problems[0].index == 7
    text = str(caught.value)
    assert f"  {problems[0]}" in text and f": {field}: {problems[0].message}" in text
    assert (problems[0].name or "")[:40] in text
    if model_cls is Sample and "name" not in case:
        assert problems[0].name == "cat.jpg"


@pytest.mark.parametrize("char", list("!<>=&\"'"))
def test_sample_name_rejects_each_forbidden_character(char: str) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": f"cat{char}1.jpg"}, 0)
    (problem,) = caught.value.problems
    assert problem.field == "name"
    assert f"(found {char!r})" in problem.message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text_label_separator", ",,", "must be exactly one character (got 2)"),
        ("text_label_separator", "", "must be exactly one character (got 0)"),
        ("text_label_separator", "~", "must be a letter, a digit or one of"),
        ("text_label_separator", "\t", "must be a letter, a digit or one of"),
        ("text_sample_separator", " ", "must be a letter, a digit, a tab or one of"),
        ("text_sample_separator", "é", "must be a letter, a digit, a tab"),
        ("label_type", "2", "must be 0 (labels in a separate _result file) or 1"),
    ],
)
def test_label_format_rejects_bad_separators(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        UploadSamplesRequest.model_validate({"label_format": {field: value}, "samples": []})
    (error,) = caught.value.errors()
    assert error["loc"] == ("label_format", field)
    assert message in error["msg"]


@pytest.mark.parametrize("separator", [*"aZ09", *"!@#$%^&*_=|?/':.;,"])
def test_label_format_accepts_every_documented_separator(separator: str) -> None:
    fmt = LabelFormat(text_label_separator=separator, text_sample_separator=separator, label_type="1")
    assert to_payload(fmt) == {
        "label_type": "1",
        "text_label_separator": separator,
        "text_sample_separator": separator,
    }


def test_label_format_tab_default_and_int_label_type() -> None:
    fmt = LabelFormat.model_validate(
        {"text_sample_separator": "\t", "label_type": 0}, context=STRICT_INPUT_CONTEXT
    )
    assert to_payload(fmt) == {"text_sample_separator": "\t", "label_type": "0"}


VALID_LABEL_PROPERTIES: list[tuple[str, dict[str, Any]]] = [
    ("bndbox", {"shape": "bndbox", "feature": [[0, 10], [50, 95]]}),
    ("polygon", {"shape": "polygon", "feature": [[0, 100], [50, 95], [10, 60], [500, 400]]}),
    ("circle", {"shape": "circle", "feature": [[100, 100], [50]]}),
    ("line", {"shape": "line", "feature": [[0, 100], [50, 95]]}),
    ("dashed", {"shape": "dashed", "feature": [[0, 100], [50, 95]]}),
    ("point", {"shape": "point", "feature": [[0, 100]]}),
    ("polyline", {"shape": "polyline", "feature": [[0, 100], [50, 95], [10, 60], [500, 400]]}),
    ("ner", {"start_index": 0, "end_index": 23}),
    (
        "speech",
        {"start_time": "00:00:01.000", "end_time": "00:00:01.000", "content": "hi", "source": "narrator"},
    ),
    ("long speech", {"start_time": "100:59:59.999"}),
    ("triplet", {"from": "e1", "to": "e2"}),
    ("hard", {"hard": "true", "hard_coefficient": "0.5", "hard_reasons": "3-20-21-19"}),
]


@pytest.mark.parametrize(("case", "prop"), VALID_LABEL_PROPERTIES, ids=_ids(VALID_LABEL_PROPERTIES))
def test_documented_label_properties_pass_strict_input(case: str, prop: dict[str, Any]) -> None:
    raw = _label(**prop) | {"name": "a.jpg", "metadata": {"@modelarts:size": [640, 480]}}
    assert to_payload(parse_sample(Sample, raw, 0)) == raw


def test_label_flags_accept_python_values_and_send_documented_strings() -> None:
    prop = SampleLabelProperty.model_validate(
        {"@modelarts:hard": True, "@modelarts:hard_coefficient": 0.25, "@modelarts:hard_reasons": [3, 20]}
    )
    assert to_payload(prop) == {
        "@modelarts:hard": "true",
        "@modelarts:hard_coefficient": "0.25",
        "@modelarts:hard_reasons": "3-20",
    }


def test_encoding_is_normalised() -> None:
    assert Sample(encoding="utf-8").encoding == "UTF-8"
    assert Sample(encoding="gb2312").encoding == "GB2312"


def test_sample_bytes_are_base64_encoded_and_hidden_from_repr() -> None:
    sample = Sample(name="a.txt", data=b"\x00\xffhello")
    assert to_payload(sample) == {"name": "a.txt", "data": "AP9oZWxsbw=="}
    assert "AP9o" not in repr(sample)


def test_oversized_sample_is_rejected_before_sending() -> None:
    too_big = "A" * ((MAX_SAMPLE_BYTES // 3 + 1) * 4)
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": "huge.bin", "data": too_big}, 2)
    (problem,) = caught.value.problems
    assert problem.field == "data"
    assert "at most 12,582,912" in problem.message
    assert "AAAA" not in str(caught.value)
    exact = "A" * (MAX_SAMPLE_BYTES // 3 * 4)
    assert parse_sample(Sample, {"data": exact}, 0).data == exact


def test_object_detection_with_size_is_fine_and_update_does_not_need_size() -> None:
    parse_sample(Sample, {"labels": [{"type": 1}], "metadata": {"@modelarts:size": [10, 10, 3]}}, 0)
    parse_sample(SampleLabels, {"sample_id": "s", "labels": [{"type": 1}]}, 0)


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"sampling_rate": 0}, ("sampling_rate",), "must be greater than 0 and at most 1"),
        ({"sampling_rate": 1.5}, ("sampling_rate",), "must be greater than 0 and at most 1"),
        ({"sampling_num": 0}, ("sampling_num",), "must be at least 1"),
        ({}, (), "sampling_rate: set sampling_rate (0 < rate <= 1) or sampling_num"),
        (
            {"sampling_rate": 0.5, "sampling_num": 3},
            (),
            "sampling_num: set only one of sampling_rate and sampling_num",
        ),
    ],
)
def test_start_acceptance_request_rules(body: dict[str, Any], loc: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CreateWorkforceSamplingTaskRequest.model_validate(body)
    (error,) = caught.value.errors()
    assert error["loc"] == loc
    assert error["msg"] == message


@pytest.mark.parametrize("body", [{"sampling_rate": 1}, {"sampling_rate": 0.01}, {"sampling_num": 1}])
def test_start_acceptance_request_accepts_one_of_rate_or_num(body: dict[str, Any]) -> None:
    assert (
        to_payload(CreateWorkforceSamplingTaskRequest.model_validate(body, context=STRICT_INPUT_CONTEXT))
        == body
    )


# ------------------------------------------------------------------------------------------ parse_sample


def test_parse_sample_reports_every_problem_of_a_sample() -> None:
    raw = {"name": "a<b.jpg", "labels": [{"score": 2}, {"score": 0.5, "scor": 1}], "encoding": "ascii"}
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, raw, 3)
    assert sorted(p.field for p in caught.value.problems) == [
        "encoding",
        "labels[0].score",
        "labels[1].scor",
        "name",
    ]
    assert all(p.index == 3 and p.name == "a<b.jpg" for p in caught.value.problems)
    assert str(caught.value).splitlines()[0] == "4 problems in 1 sample:"


def test_parse_sample_names_update_samples_by_sample_id() -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(SampleLabels, {"sample_id": "abc123", "labels": [{"score": 9}]}, 12)
    assert str(caught.value.problems[0]) == "sample #12 ('abc123'): labels[0].score: must be between 0 and 1"


@pytest.mark.parametrize("raw", [["not", "a", "mapping"], "text", 5])
def test_parse_sample_rejects_non_objects(raw: Any) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, raw, 1)
    assert caught.value.problems == [
        SampleProblem(1, None, "", f"must be an object (a mapping), not {type(raw).__name__}")
    ]


def test_parse_sample_revalidates_instances() -> None:
    good = Sample(name="ok.jpg", labels=[SampleLabel(name="cat", score=0.5)])
    parsed = parse_sample(Sample, good, 0)
    assert parsed == good
    assert parsed.model_fields_set == good.model_fields_set
    mutated = Sample(name="ok.jpg", labels=[SampleLabel(name="cat", score=0.5)])
    assert mutated.labels is not None
    mutated.labels[0].score = 3.0  # no validate_assignment: only a re-validation catches this
    constructed = Sample.model_construct(name="bad>name")
    with_extra = Sample(name="x.jpg", colour="red")
    for index, instance in enumerate([mutated, constructed, with_extra]):
        with pytest.raises(SampleValidationError) as caught:
            parse_sample(Sample, instance, index)
        assert caught.value.problems[0].index == index


def test_sample_validation_error_lists_twenty_lines_then_a_count() -> None:
    problems = [
        SampleProblem(i, f"s{i}.jpg", "labels[0].score", "must be between 0 and 1") for i in range(25)
    ]
    error = SampleValidationError(problems)
    lines = str(error).splitlines()
    assert lines[0] == "25 problems in 25 samples:"
    assert lines[1] == "  sample #0 ('s0.jpg'): labels[0].score: must be between 0 and 1"
    assert len(lines) == 22 and lines[-1] == "  ... and 5 more"
    assert isinstance(error, ValueError)
    clone = pickle.loads(pickle.dumps(error))
    assert clone.problems == problems and str(clone) == str(error)


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("labels", 0, "property", "@modelarts:feature"), "labels[0].property.@modelarts:feature"),
        ((0, "name"), "[0].name"),
        (("samples", 3, "labels", 1, "score"), "samples[3].labels[1].score"),
        ((), ""),
    ],
)
def test_format_loc(loc: tuple[Any, ...], expected: str) -> None:
    assert format_loc(loc) == expected


def test_request_errors_name_the_sample_position() -> None:
    with pytest.raises(ValidationError) as caught:
        UpdateSamplesRequest.model_validate({"samples": [{"sample_id": "a"}, {"labels": [{"score": 7}]}]})
    (error,) = caught.value.errors()
    assert format_loc(error["loc"]) == "samples[1].labels[0].score"


# --------------------------------------------------------------------------------------------- replies


def test_batch_response_serves_body_and_items() -> None:
    body = {
        "success": False,
        "results": [
            {"success": True},
            {"success": False, "error_code": "ModelArts.4420", "error_msg": "gone"},
        ],
    }
    reply = parse_response(UpdateSamplesResponse, body)
    assert UpdateSamplesResponse is BatchResponse
    assert [(i, item.error_code) for i, item in reply.failures()] == [(1, "ModelArts.4420")]
    assert to_payload(reply) == body


def test_update_acceptance_status_response_with_samples() -> None:
    body = {
        "sample_count": 1,
        "samples": [
            {
                "sample_id": "s1",
                "check_accept": True,
                "hard_details": {"1": {"id": 1, "reason": "low confidence"}},
            }
        ],
    }
    reply = parse_response(UpdateAcceptanceStatusResponse, body)
    assert reply.samples is not None and reply.samples[0].hard_details is not None
    assert reply.samples[0].hard_details["1"].reason == "low confidence"
    assert to_payload(reply) == body


def test_start_acceptance_response() -> None:
    assert parse_response(CreateWorkforceSamplingTaskResponse, {"task_id": "t1"}).task_id == "t1"


def test_source_info_password_is_hidden_but_sent() -> None:
    info = SourceInfo(user_name="dws", user_password="s3cret-pw")
    assert "s3cret-pw" not in repr(info) and "s3cret-pw" not in str(info.model_dump())
    assert to_payload(info) == {"user_name": "dws", "user_password": "s3cret-pw"}
    assert json.loads(info.model_dump_json(exclude_none=True))["user_password"] == "s3cret-pw"


# ---------------------------------------------------------------------------------------------- exports


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


# -- values a JSON body cannot carry: parse_sample refuses them, naming the field -------------------------


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


class _Opaque:
    pass


UNSENDABLE_VALUES: list[tuple[str, type[BaseModel], dict[str, Any], str, str]] = [
    (
        "nan custom attribute",
        Sample,
        {"labels": [{"name": "c", "property": {"custom attribute": float("nan")}}]},
        "labels[0].property.custom attribute",
        "NaN or infinite numbers cannot be sent as JSON",
    ),
    (
        "inf metadata",
        Sample,
        {"metadata": {"custom": float("-inf")}},
        "metadata.custom",
        "NaN or infinite numbers cannot be sent as JSON",
    ),
    (
        "nan coordinate",
        Sample,
        {"labels": [{"name": "c", "property": {"@modelarts:feature": [[1, 2], [float("nan"), 3]]}}]},
        "labels[0].property.@modelarts:feature[1][0]",
        "NaN or infinite numbers",
    ),
    (
        "inf nested in a list attribute",
        SampleLabels,
        {"sample_id": "s1", "labels": [{"name": "c", "property": {"scores": [0.5, [float("inf")]]}}]},
        "labels[0].property.scores[1][0]",
        "NaN or infinite numbers",
    ),
    ("surrogate name", Sample, {"name": "cat\udfff.jpg"}, "name", "lone surrogate"),
    ("surrogate label name", Sample, {"labels": [{"name": "\ud800"}]}, "labels[0].name", "lone surrogate"),
    (
        "surrogate custom attribute",
        Sample,
        {"labels": [{"name": "c", "property": {"note": "ok \udc80"}}]},
        "labels[0].property.note",
        "lone surrogate",
    ),
    (
        "surrogate inside a custom key",
        Sample,
        {"metadata": {"custom": {"\ud83d": 1}}},
        "metadata.custom",
        "lone surrogate",
    ),
    ("surrogate custom key", Sample, {"metadata": {"\ud83d": 1}}, "metadata", "lone surrogate"),
    ("int key", Sample, {"metadata": {3: "x"}}, "metadata[3]", "keys must be strings"),
    (
        "int key nested",
        Sample,
        {"metadata": {"custom": {3: "x"}}},
        "metadata.custom",
        "key 3 is not a string",
    ),
    ("object", Sample, {"metadata": {"custom": _Opaque()}}, "metadata.custom", "_Opaque is not JSON"),
    (
        "set",
        SampleLabels,
        {"sample_id": "s", "metadata": {"tags": {1, 2}}},
        "metadata.tags",
        "set is not JSON",
    ),
    (
        "deep label attribute",
        Sample,
        {"labels": [{"name": "c", "property": {"deep": _nested(65)}}]},
        "labels[0].property.deep",
        "nested more than 64 levels deep",
    ),
    (
        "very deep metadata",
        SampleLabels,
        {"sample_id": "s", "metadata": {"deep": _nested(50_000)}},
        "metadata.deep",
        "nested more than 64 levels deep",
    ),
]


@pytest.mark.parametrize(
    ("case", "model_cls", "raw", "field", "message"), UNSENDABLE_VALUES, ids=_ids(UNSENDABLE_VALUES)
)
def test_values_json_cannot_carry_name_sample_and_field(
    case: str, model_cls: type[BaseModel], raw: dict[str, Any], field: str, message: str
) -> None:
    raw = {"name": "cat.jpg", **raw} if model_cls is Sample and "name" not in raw else raw
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(model_cls, raw, 3)
    (problem,) = caught.value.problems
    assert problem.index == 3
    assert problem.field == field or (problem.field.startswith(field) and problem.field.endswith("..."))
    assert message in problem.message
    assert "sample #3 (" in str(caught.value)


def test_json_safe_values_pass_unchanged() -> None:
    raw = {
        "name": "猫-ñandú-🐈.jpg",
        "labels": [
            {
                "name": "🐈",
                "property": {"note": "naïve", "nested": _nested(60), "flag": True, "x": 1e300},
            }
        ],
        "metadata": {"tags": ["a", 2, 3.5]},
    }
    assert to_payload(parse_sample(Sample, raw, 0)) == raw


def test_model_instances_are_checked_too() -> None:
    instance = Sample.model_construct(name="a.jpg", metadata={"custom": float("nan")})
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, instance, 0)
    assert [p.field for p in caught.value.problems] == ["metadata.custom"]
    deep = Sample.model_construct(name="a.jpg", metadata={"custom": _nested(5_000)})
    with pytest.raises(SampleValidationError, match="nested more than 64 levels deep"):
        parse_sample(Sample, deep, 0)


def test_problem_lines_quote_huge_names_briefly() -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": "\x00" * 5000}, 0)
    assert "must be at most 1024 characters" in str(caught.value)
    assert len(str(caught.value)) < 300
    assert "[5,000 chars]" in str(caught.value)


# -- the compiled fast path of parse_sample ---------------------------------------------------------------
# parse_sample first tries a validator derived from the models' core schema with the strict-input rules as
# pydantic-core constraints (``_models/_fast.py``) and falls back to the models' own validation when it says
# no. It must accept only what the models accept, with the same result, and must avoid Python callbacks.

_FAST_CASES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (Sample, {"name": "a.jpg", "sample_type": 0, "data": "aGk=", "labels": [{"name": "cat", "type": 0}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{"name": "cat", "score": 0.5, "annotated_by": "auto"}]}),
    (SampleLabels, {"sample_id": "s1", "sample_usage": "TRAIN", "labels": []}),
    (
        Sample,
        {
            "name": "o.jpg",
            "metadata": {"@modelarts:size": [10, 20, 3], "my_key": {"nested": [1, 2]}},
            "labels": [
                {
                    "name": "car",
                    "type": 1,
                    "property": {
                        "@modelarts:shape": "bndbox",
                        "@modelarts:feature": [[0, 1], [5, 6]],
                        "c": 1,
                    },
                }
            ],
        },
    ),
]


@pytest.mark.parametrize(("model_cls", "raw"), _FAST_CASES)
def test_fast_path_gives_the_models_own_result(model_cls: type[BaseModel], raw: dict[str, Any]) -> None:
    from airflow_provider_modelarts._models._fast import fast_validator

    fast = fast_validator(model_cls)
    assert fast is not None
    expected = model_cls.model_validate(raw, context=dict(STRICT_INPUT_CONTEXT))
    got = fast.validate_python(raw, context=dict(STRICT_INPUT_CONTEXT))
    assert type(got) is model_cls
    assert got == expected
    assert got.model_dump() == expected.model_dump()
    assert to_payload(got) == to_payload(expected)
    assert parse_sample(model_cls, raw, 0) == expected


def test_fast_path_runs_no_python_validators_for_a_label_update() -> None:
    """pydantic-core would reuse each class's own validator (with its callbacks) unless the build avoids
    it."""
    import sys

    from airflow_provider_modelarts._models._fast import fast_validator

    fast = fast_validator(SampleLabels)
    assert fast is not None
    raw = {"sample_id": "s1", "labels": [{"name": "cat", "type": 0, "score": 0.9, "annotated_by": "auto"}]}
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and "airflow_provider_modelarts" in frame.f_code.co_filename:
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        fast.validate_python(raw, context=dict(STRICT_INPUT_CONTEXT))
    finally:
        sys.setprofile(None)
    assert calls == []
    # ... while the models' own validation does call back (so the check above can tell the difference).
    sys.setprofile(profile)
    try:
        SampleLabels.model_validate(raw, context=dict(STRICT_INPUT_CONTEXT))
    finally:
        sys.setprofile(None)
    assert "_mark_unknown_keys" in calls


@pytest.mark.parametrize(
    "label",
    [
        {"name": "cat", "type": True},  # bool is not a label type
        {"name": "cat", "type": 1.0},
        {"name": "cat", "type": 5},
        {"name": "cat", "score": float("nan")},
        {"name": "cat", "score": 1.5},
        {"name": "cat", "annotated_by": "robot"},
        {"name": "cat", "nmae": "x"},  # unknown key
        {"name": "cat", "property": {"@modelarts:shpae": "bndbox"}},  # reserved prefix, unknown
        {"name": "cat", "property": {1: "x"}},
    ],
)
def test_fast_path_refuses_what_the_models_refuse(label: dict[str, Any]) -> None:
    from airflow_provider_modelarts._models._fast import fast_validator

    fast = fast_validator(SampleLabels)
    assert fast is not None
    raw = {"sample_id": "s1", "labels": [label]}
    with pytest.raises(ValidationError):
        SampleLabels.model_validate(raw, context=dict(STRICT_INPUT_CONTEXT))
    with pytest.raises(ValidationError):
        fast.validate_python(raw, context=dict(STRICT_INPUT_CONTEXT))
    with pytest.raises(SampleValidationError):
        parse_sample(SampleLabels, raw, 0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"sample_id": "s1", "labels": [{"type": " 1 "}]}, LabelType.OBJECT_DETECTION),  # spelling: slow path
        ({"sample_id": "s1", "labels": [{"type": "object_detection"}]}, LabelType.OBJECT_DETECTION),
        ({"sample_id": "s1", "labels": [{"type": 1}]}, LabelType.OBJECT_DETECTION),
    ],
)
def test_enum_spellings_still_accepted(raw: dict[str, Any], expected: LabelType) -> None:
    model = parse_sample(SampleLabels, raw, 0)
    assert model.labels is not None
    assert model.labels[0].type is expected


def test_sample_name_rules_unchanged_through_fast_path() -> None:
    ok = parse_sample(Sample, {"name": "x" * 1024}, 0)
    assert ok.name == "x" * 1024
    with pytest.raises(SampleValidationError, match=r"name: must be at most 1024 characters \(got 1025\)"):
        parse_sample(Sample, {"name": "x" * 1025}, 0)
    with pytest.raises(SampleValidationError, match="name: must not contain any of"):
        parse_sample(Sample, {"name": "a<b.jpg"}, 0)


def test_enum_fields_serialise_without_python_callbacks_and_keep_their_output() -> None:
    """Enum fields are serialised by pydantic-core (every label of every batch sent goes through this)."""
    import sys

    model = parse_sample(
        SampleLabels,
        {"sample_id": "s1", "sample_usage": "TRAIN", "labels": [{"type": 1, "annotated_by": "auto"}]},
        0,
    )
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        # any Python call: a serializer function, or the enum module's ``value`` property
        if event == "call":
            calls.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    sys.setprofile(profile)
    try:
        body = model.__pydantic_serializer__.to_json(model, by_alias=True, exclude_none=True)
    finally:
        sys.setprofile(None)
    assert calls == []
    assert json.loads(body) == {
        "sample_id": "s1",
        "sample_usage": "TRAIN",
        "labels": [{"type": 1, "annotated_by": "auto"}],
    }
    dumped = model.model_dump(exclude_none=True)
    assert dumped["sample_usage"] is SampleUsage.TRAIN
    assert dumped["labels"][0]["type"] is LabelType.OBJECT_DETECTION
    # undocumented values from a reply are kept and sent back as they came
    reply = SampleLabels.model_validate(
        {"sample_type": 77, "labels": [{"type": 999}]}, context=RESPONSE_CONTEXT
    )
    assert json.loads(reply.model_dump_json(exclude_none=True)) == {
        "sample_type": 77,
        "labels": [{"type": 999}],
    }


def _outcome(model_cls: type[BaseModel], raw: Any) -> tuple[Any, ...]:
    try:
        model = parse_sample(model_cls, raw, 7)
    except SampleValidationError as exc:
        return ("refused", [str(p) for p in exc.problems])
    return ("accepted", type(model), repr(model.model_dump()), model.model_dump_json(by_alias=True))


def _reference_outcome(
    model_cls: type[BaseModel], raw: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, ...]:
    """parse_sample's outcome with the fast paths switched off: the models' own validation and the walk."""
    from airflow_provider_modelarts._models import _parse

    with monkeypatch.context() as patch:
        patch.setattr(_parse, "fast_validator", lambda cls, plain=False: None)
        return _outcome(model_cls, raw)


_ODD_TEXT = st.one_of(
    st.sampled_from(["cat", "a.jpg", "auto", "human", "TRAIN", "bndbox", "1", " 1 ", "object_detection", ""]),
    st.text(max_size=5),
    st.sampled_from(["\ud800", "x\udfff", "a<b", "ü.jpg", "@modelarts:shape"]),
)
_ODD_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 1200),
    st.sampled_from([0.5, 1.0, 1.5, -0.0, float("nan"), float("inf"), 2**70]),
    _ODD_TEXT,
    st.sampled_from([b"aGk=", LabelType.OBJECT_DETECTION, AnnotatedBy.AUTO, SampleUsage.TRAIN, object()]),
)
_ODD_VALUE = st.recursive(
    _ODD_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=2).map(tuple),
        st.dictionaries(st.one_of(_ODD_TEXT, st.integers(0, 2)), inner, max_size=3),
    ),
    max_leaves=6,
)


def _odd_object(keys: list[str]) -> st.SearchStrategy[dict[Any, Any]]:
    return st.dictionaries(st.sampled_from(keys), _ODD_VALUE, max_size=4)


_PROPERTY = st.one_of(
    _odd_object(
        ["@modelarts:shape", "@modelarts:feature", "@modelarts:hard", "@modelarts:shpae", "custom", "content"]
    ),
    st.just({"@modelarts:shape": "bndbox", "@modelarts:feature": [[0, 0], [2, 2]]}),
)
_LABEL = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "name": _ODD_TEXT,
            "type": st.one_of(st.sampled_from([0, 1, 100, True, 1.0, "1"]), _ODD_SCALAR),
            "score": st.one_of(st.floats(allow_nan=True), _ODD_SCALAR),
            "annotated_by": _ODD_TEXT,
            "property": _PROPERTY,
            "nmae": _ODD_SCALAR,
        },
    ),
    _ODD_VALUE,
    st.builds(lambda: SampleLabel(name="inst")),
)
_LABELS = st.one_of(st.lists(_LABEL, max_size=3), st.lists(_LABEL, max_size=2).map(tuple), _ODD_SCALAR)
_METADATA = _odd_object(["@modelarts:size", "@modelarts:hard_coefficient", "my_key", "@modelarts:sise"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.fixed_dictionaries(
            {"sample_id": st.just("s1")},
            optional={
                "labels": _LABELS,
                "sample_usage": _ODD_TEXT,
                "metadata": _METADATA,
                "worker": _ODD_SCALAR,
            },
        ).map(lambda d: (SampleLabels, d)),
        st.fixed_dictionaries(
            {"name": _ODD_TEXT},
            optional={
                "data": _ODD_SCALAR,
                "labels": _LABELS,
                "sample_type": _ODD_SCALAR,
                "metadata": _METADATA,
            },
        ).map(lambda d: (Sample, d)),
    )
)
def test_fast_paths_change_nothing_but_speed(
    raw: tuple[type[BaseModel], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same accepted model or the same problem lines as the models' own validation plus the JSON walk."""
    from airflow_provider_modelarts._models import _parse

    model_cls, sample = raw
    expected = _reference_outcome(model_cls, sample, monkeypatch)
    for _ in range(2):  # with and without the plain variant (it is skipped for a while after a refusal)
        _parse._PLAIN_SKIP.clear()
        assert _outcome(model_cls, sample) == expected
        _parse._PLAIN_SKIP[model_cls] = 1
        assert _outcome(model_cls, sample) == expected


class _Text(str):
    pass


class _Number(float):
    pass


_L = {"name": "cat", "type": 0, "score": 0.5, "annotated_by": "auto"}
_DIFFERENTIAL_CASES: list[tuple[type[BaseModel], Any]] = [
    (SampleLabels, {"sample_id": "s1", "labels": [_L]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "name": "x\udfff"}]}),
    (SampleLabels, {"sample_id": "\ud800", "labels": [_L]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "annotated_by": "aut\ud800"}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": float("nan")}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": float("inf")}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": True}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": 1}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": _Number(0.25)}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "type": True}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "type": LabelType.OBJECT_DETECTION}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "annotated_by": AnnotatedBy.HUMAN}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "name": _Text("cat")}]}),
    (SampleLabels, {"sample_id": "s1", "labels": (_L,)}),
    (SampleLabels, {"sample_id": "s1", "labels": [SampleLabel(name="instance")]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "property": {"colour": "red"}}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "property": {"colour": float("nan")}}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "property": {"colour": {1: "x"}}}]}),
    (
        SampleLabels,
        {
            "sample_id": "s1",
            "labels": [
                {
                    **_L,
                    "property": {
                        "@modelarts:shape": "bndbox",
                        "@modelarts:feature": [[0, 0], [1, float("inf")]],
                    },
                }
            ],
        },
    ),
    (SampleLabels, {"sample_id": "s1", "sample_usage": " train", "metadata": {"my_key": [object()]}}),
    (
        SampleLabels,
        {"sample_id": "s1", "metadata": {"@modelarts:size": [1, 2], "@modelarts:hard_coefficient": 0.5}},
    ),
    (SampleLabels, {"sample_id": b"s1"}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "name": b"cat"}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": Decimal("0.5")}]}),
    (SampleLabels, {"sample_id": "s1", "metadata": {"@modelarts:size": frozenset({1, 2})}}),
    (SampleLabels, {"sample_id": "s1", "metadata": {"@modelarts:import_origin": 1.0}}),
    (Sample, {"name": "a.jpg", "data": "aGk=", "sample_type": 0, "labels": [_L]}),
    (Sample, {"name": "a.jpg", "data": b"hi"}),
    (Sample, {"name": "a.jpg", "data": _Text("aGk=")}),
    (Sample, {"name": _Text("a.jpg")}),
    (Sample, {"name": "a\ud800.jpg"}),
    (Sample, {"name": "a.jpg", "encoding": "utf-8"}),
    (
        Sample,
        {
            "name": "a.jpg",
            "data_source": {"data_path": "obs://b/a.jpg", "source_info": {"user_password": "pw"}},
        },
    ),
]


@pytest.mark.parametrize(("model_cls", "raw"), _DIFFERENTIAL_CASES)
def test_fast_paths_match_the_models_on_edge_cases(
    model_cls: type[BaseModel], raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_modelarts._models import _parse

    expected = _reference_outcome(model_cls, raw, monkeypatch)
    _parse._PLAIN_SKIP.clear()
    assert _outcome(model_cls, raw) == expected
    _parse._PLAIN_SKIP[model_cls] = 1  # the plain variant skipped: the other fast path and the walk
    assert _outcome(model_cls, raw) == expected


def test_every_model_class_gets_a_fast_validator_or_the_normal_path() -> None:
    """Deriving the fast validators never fails a validation; classes it cannot derive keep the normal
    path."""
    import airflow_provider_modelarts.models as models
    from airflow_provider_modelarts._models._fast import fast_validator

    classes = [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__.startswith("airflow")
    ]
    assert len(classes) > 20
    for cls in classes:
        for plain in (False, True):
            fast_validator(cls, plain=plain)  # must not raise
    assert fast_validator(SampleLabels, plain=True) is not None
    assert fast_validator(BatchResponse, plain=True) is None  # shared definitions: not derived
    parsed = parse_sample(BatchResponse, {"success": True}, 0)
    assert parsed.success is True
    with pytest.raises(SampleValidationError, match="#0"):
        parse_sample(BatchResponse, {"success": True, "surprise": 1}, 0)
