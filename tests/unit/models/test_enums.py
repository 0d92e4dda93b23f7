"""Tests of ``_models/_enums.py``: the documented options and their forgiving spellings."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelarts._models._enums import StrEnum
from airflow_provider_modelarts.models import (
    AcceptanceAction,
    AnnotatedBy,
    DataSourceType,
    LabelType,
    SampleStatus,
    SampleType,
    SampleUsage,
    Shape,
    TaskStatus,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


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
