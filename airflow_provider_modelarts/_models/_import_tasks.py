"""Request bodies and replies of the dataset import tasks (create, list, details).

Pages (``../shared/spec/related/``): ``creating_an_import_task.rst`` (ImportTask, **create**),
``querying_the_dataset_import_task_list.rst`` (ListImportTasks, **list**) and
``querying_details_about_a_dataset_import_task.rst`` (DescImportTask, **details**).

The request is exactly as strict as the create page: ``import_path`` is the one mandatory field (Table 2),
the documented options of ``import_type`` and ``import_origin`` are the only ones sent, unknown keys are
refused with "did you mean" (``STRICT_INPUT_CONTEXT``); the page states no other value rule, so none is
checked. ``import_type`` is a **string** in the request (``dir`` / ``manifest``, :class:`ImportType`) and an
**integer** in the replies (``0`` / ``1``, :class:`ImportMode`). Replies are read leniently: a status or mode
the pages do not list is kept as it came, unknown keys survive.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

from ._base import ModelArtsModel, lenient_enum
from ._enums import StrEnum, _Parse
from ._reads import LabelAttribute, LabelProperty
from ._samples import DataSource, LabelFormat
from ._types import LabelTypeValue, _schema

__all__ = [
    "CreateImportTaskRequest",
    "CreateImportTaskResponse",
    "FileCopyProgress",
    "ImportLabel",
    "ImportMode",
    "ImportOrigin",
    "ImportTaskStatus",
    "ImportTaskStatusResp",
    "ImportType",
    "ListImportTasksResponse",
]


class ImportType(_Parse, StrEnum):
    """``import_type`` of create (Table 2): "dir: Import datasets through an OBS path. manifest: Import
    datasets through a manifest file"."""

    DIR = "dir"
    MANIFEST = "manifest"


class ImportMode(_Parse, IntEnum):
    """``import_type`` of the replies (list Table 4, details Table 2): "0: Import by directory. 1: Import by
    manifest file"."""

    DIR = 0
    MANIFEST = 1


class ImportOrigin(_Parse, StrEnum):
    """``import_origin`` of create (Table 2): "obs: OBS bucket (default value)", dws, dli, rds, mrs,
    inference."""

    OBS = "obs"
    DWS = "dws"
    DLI = "dli"
    RDS = "rds"
    MRS = "mrs"
    INFERENCE = "inference"


class ImportTaskStatus(_Parse, StrEnum):
    """``status`` of an import task (list Table 4): queuing, execution started, running, completed, failed,
    not found."""

    QUEUING = "QUEUING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    NOT_EXIST = "NOT_EXIST"


# Lenient in replies, only the documented options in user input (``lenient_enum``), with their schema.
ImportTypeValue = Annotated[ImportType | str, lenient_enum(ImportType), _schema(ImportType)]
ImportModeValue = Annotated[ImportMode | int, lenient_enum(ImportMode), _schema(ImportMode)]
ImportOriginValue = Annotated[ImportOrigin | str, lenient_enum(ImportOrigin), _schema(ImportOrigin)]
ImportTaskStatusValue = Annotated[
    ImportTaskStatus | str, lenient_enum(ImportTaskStatus), _schema(ImportTaskStatus)
]


class ImportLabel(ModelArtsModel):
    """Table 6 "Label" of create (``included_labels`` / ``excluded_labels``); every field optional.

    Tables 7-9 (LabelAttribute, LabelAttributeValue, LabelProperty) are the dataset label's own, reused.
    """

    attributes: list[LabelAttribute] | None = None
    name: str | None = None
    property: LabelProperty | None = None
    type: LabelTypeValue | None = None


class CreateImportTaskRequest(ModelArtsModel):
    """Body of ``POST /v2/{project_id}/datasets/{dataset_id}/import-tasks`` (create, Table 2)."""

    data_source: DataSource | None = None
    difficult_only: bool | None = None
    excluded_labels: list[ImportLabel] | None = None
    final_annotation: bool | None = None
    import_annotations: bool | None = None
    import_folder: str | None = None
    import_origin: ImportOriginValue | None = None
    # "Mandatory: Yes": "OBS path or manifest path to be imported."
    import_path: str
    import_samples: bool | None = None
    import_type: ImportTypeValue | None = None
    included_labels: list[ImportLabel] | None = None
    label_format: LabelFormat | None = None
    with_column_header: bool | None = None


class CreateImportTaskResponse(ModelArtsModel):
    """Reply of create (Table 11): ``task_id``, "ID of an import task" (nothing marked mandatory)."""

    task_id: str | None = None


class FileCopyProgress(ModelArtsModel):
    """``file_statistics`` (list Table 8, details Table 6): file replication progress."""

    file_num_finished: int | None = None
    file_num_total: int | None = None
    file_size_finished: int | None = None
    file_size_total: int | None = None


class ImportTaskStatusResp(ModelArtsModel):
    """One import task (list Table 4; the details reply, Table 2, has the same fields).

    ``create_time`` / ``update_ms`` are Long with no unit stated (the examples are epoch milliseconds).
    """

    annotated_sample_count: int | None = None
    create_time: int | None = None
    data_source: DataSource | None = None
    dataset_id: str | None = None
    elapsed_time: int | None = None
    error_code: str | None = None
    error_msg: str | None = None
    file_statistics: FileCopyProgress | None = None
    finished_file_count: int | None = None
    finished_file_size: int | None = None
    import_path: str | None = None
    import_type: ImportModeValue | None = None
    imported_sample_count: int | None = None
    imported_sub_sample_count: int | None = None
    processor_task_id: str | None = None
    processor_task_status: int | None = None
    status: ImportTaskStatusValue | None = None
    task_id: str | None = None
    total_file_count: int | None = None
    total_file_size: int | None = None
    total_sample_count: int | None = None
    total_sub_sample_count: int | None = None
    unconfirmed_sample_count: int | None = None
    update_ms: int | None = None


class ListImportTasksResponse(ModelArtsModel):
    """Reply of the list (Table 3): ``import_tasks`` one page, ``total_count`` "Number of import tasks"."""

    import_tasks: list[ImportTaskStatusResp] | None = None
    total_count: int | None = None
