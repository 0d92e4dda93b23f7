"""Mapped bulk and export operators (``.partial(...).expand(...)``): the parse-time argument checks run on
what ``partial`` receives, with the unmapped operator's words, and leave what ``expand`` maps to each mapped
task (issue 25, item 13; ``operators/base.py``, ``operators/bulk.py``).

A mapped task's operator is built only when each mapped task instance runs, so without these checks a DAG
with ``on_invalid="ignore"`` in ``partial`` parses, and every mapped task instance fails at run time.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1 keeps DagBag in airflow.models
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

from airflow_provider_modelarts.operators.base import ModelArtsBaseOperator
from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator

ADD, UPDATE, EXPORT = AddSamplesOperator, UpdateLabelsOperator, ExportLabelsOperator
OPERATORS = (ADD, UPDATE, EXPORT)
Operator = type[ModelArtsBaseOperator]

#: What the unmapped operator needs besides the arguments under test (so only those can be wrong).
COMPLETE: dict[Operator, dict[str, Any]] = {
    ADD: {"dataset_id": "d1", "samples": []},
    UPDATE: {"dataset_id": "d1", "samples": []},
    EXPORT: {"dataset_id": "d1", "path": "labels.jsonl"},
}


def _unmapped_message(operator: Operator, partial: dict[str, Any]) -> str:
    """The ``ValueError`` the unmapped operator raises given ``partial`` (a source named in ``partial``
    replaces the default one)."""
    complete = dict(COMPLETE[operator])
    sources = getattr(operator, "source_arguments", ())
    if any(name in partial for name in sources):
        complete.pop("samples", None)
    with pytest.raises(ValueError) as raised:
        operator(task_id="t", **{**complete, **partial})
    return str(raised.value)


BAD_PARTIALS = [
    (ADD, {"on_invalid": "ignore"}, "on_invalid must be 'fail' or 'skip', got 'ignore'"),
    (ADD, {"on_failure": "raise"}, "on_failure must be 'fail' or 'warn', got 'raise'"),
    (ADD, {"batch_size": 0}, "batch_size must be an integer at least 1, got 0"),
    (ADD, {"batch_size": True}, "batch_size must be an integer at least 1, got True"),
    (ADD, {"max_concurrency": 21}, "max_concurrency must be an integer from 1 to 20, got 21"),
    (ADD, {"max_batch_bytes": "1"}, "max_batch_bytes must be an integer at least 1, got '1'"),
    (ADD, {"final_annotation": "yes"}, "final_annotation must be True, False or None, got 'yes'"),
    (
        ADD,
        {"samples": [], "files": "*.jpg"},
        "AddSamplesOperator needs exactly one of samples= or manifest= or files= (given: samples=, files=)",
    ),
    (
        ADD,
        {"samples": None, "manifest": None, "files": None},
        "AddSamplesOperator needs exactly one of samples= or manifest= or files= (given: none)",
    ),
    (UPDATE, {"allow_label_deletion": "yes"}, "allow_label_deletion must be True or False, got 'yes'"),
    (UPDATE, {"on_invalid": None}, "on_invalid must be 'fail' or 'skip', got None"),
    (UPDATE, {"max_concurrency": 0}, "max_concurrency must be an integer from 1 to 20, got 0"),
    (
        UPDATE,
        {"samples": [], "manifest": "m.jsonl"},
        "UpdateLabelsOperator needs exactly one of samples= or manifest= (given: samples=, manifest=)",
    ),
    (
        UPDATE,
        {"samples": None, "manifest": None},
        "UpdateLabelsOperator needs exactly one of samples= or manifest= (given: none)",
    ),
    (EXPORT, {"page_size": 0}, "page_size must be an integer from 1 to 100, got 0"),
    (EXPORT, {"page_size": True}, "page_size must be an integer from 1 to 100, got True"),
    (EXPORT, {"path": ("a",)}, "path must be a string (a local path or a URL), got tuple"),
    (EXPORT, {"on_incomplete": "raise"}, "on_incomplete must be 'fail' or 'warn', got 'raise'"),
]


@pytest.mark.parametrize(("operator", "partial", "message"), BAD_PARTIALS)
def test_a_bad_argument_given_to_partial_fails_with_the_unmapped_operators_message(
    operator: Operator, partial: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        operator.partial(task_id="t", **partial)
    assert str(raised.value) == message == _unmapped_message(operator, partial)


@pytest.mark.parametrize(
    ("operator", "partial", "mapped"),
    [
        (ADD, {"samples": None}, {"manifest": ["a.jsonl", "b.jsonl"]}),  # the source is mapped
        (ADD, {"samples": None, "manifest": None}, {"files": [["a/*.jpg"], ["b/*.jpg"]]}),
        (ADD, {"manifest": "{{ params.m }}", "batch_size": 10, "on_failure": "warn"}, {}),
        (ADD, {}, {"samples": [[{"name": "a.jpg"}]], "final_annotation": [True, False]}),
        (UPDATE, {"manifest": None}, {"samples": [[{"sample_id": "s1", "labels": []}]]}),
        (UPDATE, {"samples": [], "allow_label_deletion": True, "on_invalid": "skip"}, {}),
        (EXPORT, {"page_size": 10, "on_incomplete": "warn"}, {"path": ["a.jsonl", "s3://b/k.jsonl"]}),
        (EXPORT, {"path": "{{ params.dir }}/labels.jsonl"}, {"on_incomplete": ["fail", "warn"]}),
    ],
)
def test_what_expand_maps_is_left_to_each_mapped_task(
    operator: Operator, partial: dict[str, Any], mapped: dict[str, Any]
) -> None:
    """An argument ``expand`` maps is unknown when the DAG is parsed: a rule that needs it waits."""
    task = operator.partial(task_id="t", **partial).expand(dataset_id=["d1", "d2"], **mapped)
    assert task.task_id == "t"
    assert {name: task.partial_kwargs[name] for name in partial} == partial  # passed on as given


# -- the rule, varied: partial refuses exactly what every mapped task would refuse ---------------------

#: Per operator: each checked argument's good and bad values.
VALUES: dict[Operator, dict[str, tuple[list[Any], list[Any]]]] = {
    ADD: {
        "on_invalid": (["fail", "skip"], ["ignore", None]),
        "on_failure": (["fail", "warn"], ["raise"]),
        "batch_size": ([1, 50], [0, True, "5"]),
        "max_concurrency": ([1, 20], [21, 2.0]),
        "max_batch_bytes": ([1 << 20], [0]),
        "final_annotation": ([None, True, False], ["yes", 1]),
    },
    UPDATE: {
        "on_invalid": (["fail", "skip"], ["warn"]),
        "batch_size": ([1], [-1]),
        "allow_label_deletion": ([True, False], ["yes", None, 0]),
    },
    EXPORT: {
        "page_size": ([1, 100], [0, 101, True, "5"]),
        "path": (["labels.jsonl", "s3://b/k.jsonl", "{{ params.p }}"], [("a",), 3, None]),
        "on_incomplete": (["fail", "warn"], ["raise", None]),
    },
}
SOURCE_VALUES = {"samples": [{"name": "a.jpg"}], "manifest": "m.jsonl", "files": "*.jpg"}
#: Required by the operator: never left out of both ``partial`` and ``expand``.
REQUIRED = {"path"}


@st.composite
def _split(draw: st.DrawFn, operator: Operator) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Arguments given to ``partial`` and lists given to ``expand``; the rest left out."""
    partial: dict[str, Any] = {}
    mapped: dict[str, list[Any]] = {}
    choices = {name: good + bad for name, (good, bad) in VALUES[operator].items()}
    choices.update({name: [None, SOURCE_VALUES[name]] for name in getattr(operator, "source_arguments", ())})
    for name, values in choices.items():
        where = draw(
            st.sampled_from(["partial", "expand"] if name in REQUIRED else ["out", "partial", "expand"])
        )
        if where == "partial":
            partial[name] = draw(st.sampled_from(values))
        elif where == "expand":
            mapped[name] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2))
    return partial, mapped


def _good_completion(operator: Operator, partial: dict[str, Any]) -> dict[str, Any]:
    """Values ``expand`` could give every argument ``partial`` left out so that each mapped task is valid."""
    completion = {name: good[0] for name, (good, _) in VALUES[operator].items() if name not in partial}
    sources = getattr(operator, "source_arguments", ())
    open_sources = [name for name in sources if name not in partial]
    if open_sources and all(partial.get(name) is None for name in sources):
        completion[open_sources[0]] = SOURCE_VALUES[open_sources[0]]
    return completion


def _error(make: Any) -> str | None:
    try:
        make()
    except ValueError as exc:
        return str(exc)
    return None


@settings(max_examples=150, deadline=None)
@given(data=st.data(), operator=st.sampled_from(OPERATORS))
def test_partial_refuses_exactly_what_no_mapping_could_make_valid(
    data: st.DataObject, operator: Operator
) -> None:
    partial, mapped = data.draw(_split(operator))
    refused = _error(lambda: operator.partial(task_id="t", **partial).expand(dataset_id=["d1"], **mapped))
    for values in itertools.product(*mapped.values()):  # each mapped task instance builds its operator
        instance = dict(zip(mapped, values, strict=True))
        error = _error(lambda: operator(task_id="t", dataset_id="d1", **partial, **instance))  # noqa: B023
        assert refused is None or error is not None, (partial, instance)  # never refuses what could run
    # With valid values for everything partial left out, a mapped task fails exactly when partial refused,
    # in the same words: partial judged all it could.
    completion = _good_completion(operator, partial)
    assert _error(lambda: operator(task_id="t", dataset_id="d1", **partial, **completion)) == refused


# -- as the DAG processor parses a DAG file ---------------------------------------------------------------

HEADER = """
import pendulum
from airflow.sdk import DAG

from airflow_provider_modelarts.operators.base import ModelArtsBaseOperator
from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
"""

GOOD_TASKS = """
    AddSamplesOperator.partial(task_id="add", dataset_id="d1", batch_size=50).expand(
        manifest=["a.jsonl", "b.jsonl"]
    )
    AddSamplesOperator.partial(task_id="files", final_annotation=False, samples=None).expand(
        dataset_id=["d1", "d2"], files=[["a/*.jpg"]]
    )
    UpdateLabelsOperator.partial(task_id="update", dataset_id="d1", allow_label_deletion=True).expand(
        samples=[[], []]
    )
    ExportLabelsOperator.partial(
        task_id="export", dataset_id="d1", on_incomplete="warn", page_size=50
    ).expand(path=["a.jsonl", "s3://bucket/b.jsonl"])
"""

BAD_TASKS: dict[str, tuple[str, tuple[Operator, dict[str, Any]]]] = {
    "bad_add": (
        'AddSamplesOperator.partial(task_id="add", dataset_id="d", on_invalid="ignore").expand(samples=[[]])',
        (ADD, {"on_invalid": "ignore"}),
    ),
    "bad_sources": (
        'AddSamplesOperator.partial(task_id="add", samples=[], manifest="m.jsonl").expand(dataset_id=["d1"])',
        (ADD, {"samples": [], "manifest": "m.jsonl"}),
    ),
    "bad_update": (
        'UpdateLabelsOperator.partial(task_id="u", allow_label_deletion="no").expand(samples=[[]])',
        (UPDATE, {"allow_label_deletion": "no"}),
    ),
    "bad_export": (
        'ExportLabelsOperator.partial(task_id="e", dataset_id="d1", page_size=500).expand(path=["a.jsonl"])',
        (EXPORT, {"page_size": 500}),
    ),
}


def _dag_file(dag_id: str, body: str) -> str:
    return HEADER.format(dag_id=dag_id) + textwrap.indent(textwrap.dedent(body).strip(), "    ") + "\n"


def test_a_dag_file_with_a_bad_mapped_argument_fails_to_parse_and_a_good_one_parses(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(_dag_file("good", GOOD_TASKS))
    for name, (task, _) in BAD_TASKS.items():
        (tmp_path / f"{name}.py").write_text(_dag_file(name, task))
    bag = DagBag(dag_folder=str(tmp_path))
    assert "good" in bag.dags and not set(BAD_TASKS) & set(bag.dags)
    assert all(task.is_mapped for task in bag.dags["good"].tasks)
    assert {Path(path).stem for path in bag.import_errors} == set(BAD_TASKS)
    for path, error in bag.import_errors.items():
        operator, partial = BAD_TASKS[Path(path).stem][1]
        assert f"ValueError: {_unmapped_message(operator, partial)}" in error
