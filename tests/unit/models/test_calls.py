"""Tests of ``_models/_calls.py``: write-call request bodies and their replies."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from airflow_provider_modelarts._models._parse import format_loc
from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    AcceptanceAction,
    BatchResponse,
    CreateWorkforceSamplingTaskRequest,
    CreateWorkforceSamplingTaskResponse,
    UpdateAcceptanceStatusResponse,
    UpdateSamplesRequest,
    UpdateSamplesResponse,
    UpdateWorkforceSamplingTaskRequest,
    parse_response,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


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


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"sampling_rate": 0}, ("sampling_rate",), "must be greater than 0 and at most 1"),
        ({"sampling_rate": 1.5}, ("sampling_rate",), "must be greater than 0 and at most 1"),
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


@pytest.mark.parametrize(
    "body", [{"sampling_rate": 1}, {"sampling_rate": 0.01}, {"sampling_num": 1}, {"sampling_num": 0}]
)
def test_start_acceptance_request_accepts_one_of_rate_or_num(body: dict[str, Any]) -> None:
    assert (
        to_payload(CreateWorkforceSamplingTaskRequest.model_validate(body, context=STRICT_INPUT_CONTEXT))
        == body
    )


def test_request_errors_name_the_sample_position() -> None:
    with pytest.raises(ValidationError) as caught:
        UpdateSamplesRequest.model_validate({"samples": [{"sample_id": "a"}, {"labels": [{"score": 7}]}]})
    (error,) = caught.value.errors()
    assert format_loc(error["loc"]) == "samples[1].labels[0].score"


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
