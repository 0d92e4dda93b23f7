"""_models/_team_tasks.py: team labeling task requests exactly as strict as their pages; lenient replies."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from airflow_provider_modelarts.models import (
    RESPONSE_CONTEXT,
    STRICT_INPUT_CONTEXT,
    CreateWorkforceTaskRequest,
    DataSyncType,
    ListWorkforceTasksResponse,
    StartWorkforceTaskRequest,
    TaskStatus,
    UpdateWorkforceTaskRequest,
    WorkerRole,
    WorkforceTaskChangeResponse,
    to_payload,
)


def strict(model: Any, data: dict[str, Any]) -> Any:
    return model.model_validate(data, context=dict(STRICT_INPUT_CONTEXT))


def test_the_pages_example_requests_pass_unchanged() -> None:
    create = {
        "task_name": "task-eb17",
        "synchronize_data": False,
        "synchronize_auto_labeling_data": False,
        "workforces_config": {
            "workforces": [{"workforce_id": "feSUo5NUIUnQAQNNTiS", "workers": [{"email": "xxx@xxx.com"}]}]
        },
        "auto_sync_dataset": False,
    }
    start = {
        "workforces_config": {
            "workforces": [
                {
                    "workforce_id": "l4u9Hpz2JJ67DNN1Hg9",
                    "workers": [{"email": "xiaozhang@163.com"}, {"email": "xiaoli@163.com"}],
                }
            ]
        }
    }
    update = {"workforces_config": {"workforces": [{"workforce_id": "3frbQ90hb8ZKksAhyR8"}]}}
    assert to_payload(strict(CreateWorkforceTaskRequest, create)) == create
    assert to_payload(strict(StartWorkforceTaskRequest, start)) == start
    assert to_payload(strict(UpdateWorkforceTaskRequest, update)) == update


@pytest.mark.parametrize(
    ("model", "data", "where"),
    [
        # "Number of persons who label each sample ... The minimum value is 1."
        (CreateWorkforceTaskRequest, {"repetition": 0}, "repetition"),
        # data_sync_type "Options: 0 ... 3"
        (CreateWorkforceTaskRequest, {"data_sync_type": 4}, "data_sync_type"),
        # Worker.role "Options: 0 ... 3"
        (
            CreateWorkforceTaskRequest,
            {"workforces_config": {"workforces": [{"workers": [{"role": 7}]}]}},
            "workforces_config.workforces.0.workers.0.role",
        ),
        # workforce_name "0 to 1024 characters and does not support ... !<>=&"'"
        (
            StartWorkforceTaskRequest,
            {"workforces_config": {"workforces": [{"workforce_name": "team&co"}]}},
            "workforces_config.workforces.0.workforce_name",
        ),
        (
            StartWorkforceTaskRequest,
            {"workforces_config": {"workforces": [{"workforce_name": "x" * 1025}]}},
            "workforces_config.workforces.0.workforce_name",
        ),
        # Worker.description "0 to 256 characters and does not support ... ^!<>=&"'"
        (
            UpdateWorkforceTaskRequest,
            {"workforces_config": {"workforces": [{"workers": [{"description": "a^b"}]}]}},
            "workforces_config.workforces.0.workers.0.description",
        ),
        (UpdateWorkforceTaskRequest, {"description": "d" * 257}, "description"),
        # update page, task_name: "1 to 64 characters and only letters, digits, underscores (_), and
        # hyphens (-) are allowed"
        (UpdateWorkforceTaskRequest, {"task_name": ""}, "task_name"),
        (UpdateWorkforceTaskRequest, {"task_name": "n" * 65}, "task_name"),
        (UpdateWorkforceTaskRequest, {"task_name": "a b"}, "task_name"),  # a space is no letter
        (UpdateWorkforceTaskRequest, {"task_name": "task.1"}, "task_name"),
        # typos of documented keys
        (CreateWorkforceTaskRequest, {"auto_sync_datset": True}, "auto_sync_datset"),
    ],
)
def test_each_documented_rule_refuses_what_the_page_refuses(
    model: Any, data: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValidationError) as info:
        strict(model, data)
    locations = [".".join(str(p) for p in e["loc"]) for e in info.value.errors()]
    assert where in locations


def test_what_the_pages_leave_open_is_accepted() -> None:
    # The create page states no rule for task_name, e-mails or ids; 0-length names are allowed where the
    # pages say "0 to N characters"; the documented edge values pass.
    create = strict(
        CreateWorkforceTaskRequest,
        {
            "task_name": "any name, even with spaces & symbols!",
            "repetition": 1,
            "data_sync_type": 3,
            "workforces_config": {
                "workforces": [{"workforce_name": "", "workers": [{"email": "not-checked"}]}]
            },
        },
    )
    assert create.data_sync_type is DataSyncType.DATA_AND_LABELS
    update = strict(UpdateWorkforceTaskRequest, {"task_name": "a" * 64, "description": "d" * 256})
    assert update.task_name == "a" * 64
    # "only letters, digits, underscores (_), and hyphens (-)": the page names no alphabet.
    for name in ("täsk", "标注任务-1", "Задача_2", "ταυ", "é" * 64):
        assert strict(UpdateWorkforceTaskRequest, {"task_name": name}).task_name == name
    worker = strict(
        StartWorkforceTaskRequest, {"workforces_config": {"workforces": [{"workers": [{"role": 3}]}]}}
    )
    assert worker.workforces_config.workforces[0].workers[0].role is WorkerRole.DATASET_OWNER


def test_the_list_reply_example_parses_and_keeps_what_it_does_not_know() -> None:
    reply = {
        "count": 2,
        "tasks": [
            {"task_id": "tY330MHxV9dqIPVaTRM", "task_name": "task-cd60", "status": 1, "repetition": 1},
            {
                "task_id": "iYZx7gScPUozOXner9k",
                "status": 99,
                "checking_task_desc": {"checking_task_id": "onSbri2oqYOmDjDyW17", "action": 0},
                "brand_new_field": {"x": 1},
                "workforces_config": {
                    "workforces": [{"workforce_name": "team&co", "workers": [{"role": 9}]}]
                },
            },
        ],
    }
    page = ListWorkforceTasksResponse.model_validate(reply, context=dict(RESPONSE_CONTEXT))
    assert page.count == 2
    assert page.tasks is not None
    first, second = page.tasks
    assert first.status is TaskStatus.RUNNING
    assert second.status == 99  # undocumented value kept raw
    assert second.model_dump()["brand_new_field"] == {"x": 1}
    assert second.checking_task_id == "onSbri2oqYOmDjDyW17"


def test_change_replies_keep_whatever_the_service_sends() -> None:
    assert WorkforceTaskChangeResponse.model_validate({}).model_dump() == {}
    assert WorkforceTaskChangeResponse.model_validate({"note": "ok"}).model_dump() == {"note": "ok"}
