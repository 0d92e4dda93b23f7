"""_models/_import_tasks.py: the create body as strict as its page, the replies read leniently."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    CreateImportTaskRequest,
    ImportMode,
    ImportTaskStatus,
    ImportTaskStatusResp,
    ImportType,
    ListImportTasksResponse,
    parse_response,
    to_payload,
)


def strict(data: dict[str, object]) -> CreateImportTaskRequest:
    return CreateImportTaskRequest.model_validate(data, context=dict(STRICT_INPUT_CONTEXT))


def test_the_create_body_sends_exactly_the_documented_keys() -> None:
    body = strict(
        {
            "import_path": "s3://test-obs/daoLu_images/animals/",
            "import_type": "dir",
            "included_labels": [{"name": "rabbits"}],
            "import_annotations": False,
            "difficult_only": False,
            "import_folder": "daily",
            "label_format": {"label_type": 1},
        }
    )
    assert to_payload(body) == {
        "import_path": "s3://test-obs/daoLu_images/animals/",
        "import_type": "dir",
        "included_labels": [{"name": "rabbits"}],
        "import_annotations": False,
        "difficult_only": False,
        "import_folder": "daily",
        "label_format": {"label_type": "1"},
    }


def test_import_path_is_the_one_mandatory_field() -> None:
    with pytest.raises(ValidationError, match="import_path"):
        strict({"import_type": "dir"})
    assert strict({"import_path": "obs://b/p/"}).import_type is None


def test_a_misspelt_key_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="did you mean 'import_folder'"):
        strict({"import_path": "obs://b/p/", "import_foldr": "x"})


@pytest.mark.parametrize("value", ["folder", 0, "DIRECTORY"])
def test_import_type_takes_only_the_two_documented_strings(value: object) -> None:
    with pytest.raises(ValidationError, match="dir, manifest"):
        strict({"import_path": "obs://b/p/", "import_type": value})


def test_import_origin_takes_only_the_documented_sources() -> None:
    assert strict({"import_path": "p", "import_origin": "OBS"}).import_origin is not None
    with pytest.raises(ValidationError, match="import_origin"):
        strict({"import_path": "p", "import_origin": "ftp"})


def test_a_reply_gives_the_import_type_as_an_integer_and_keeps_what_the_pages_do_not_list() -> None:
    task = parse_response(
        ImportTaskStatusResp,
        {
            "task_id": "t-1",
            "status": "PAUSED",
            "import_type": 1,
            "create_time": "1606114833874",
            "file_statistics": {"file_num_total": 3},
            "new_field": [1],
        },
    )
    assert task.import_type is ImportMode.MANIFEST
    assert task.status == "PAUSED" and not isinstance(task.status, ImportTaskStatus)
    assert task.create_time == 1606114833874
    assert task.file_statistics is not None and task.file_statistics.file_num_total == 3
    assert task.model_extra == {"new_field": [1]}


def test_the_list_reply_of_the_page_example_reads() -> None:
    page = parse_response(
        ListImportTasksResponse,
        b'{"total_count": 1, "import_tasks": [{"status": "COMPLETED", "task_id": "x", "import_type": 0,'
        b' "import_path": "obs://test-obs/daoLu_images/animals/", "total_sample_count": 20}]}',
    )
    assert page.total_count == 1 and page.import_tasks is not None
    assert page.import_tasks[0].status is ImportTaskStatus.COMPLETED
    assert page.import_tasks[0].import_type is ImportMode.DIR


def test_the_request_and_reply_spellings_of_the_mode_are_different_enums() -> None:
    assert str(ImportType.MANIFEST) == "manifest" and int(ImportMode.MANIFEST) == 1
