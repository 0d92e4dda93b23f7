"""import_tasks/adoption.py: the edges of how an import is compared and dated (which type is sent, how paths
match, how ``create_time`` is read), beyond the examples test_adoption.py takes from the pages."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelarts.import_tasks import (
    import_mode,
    infer_import_type,
    normalize_path,
    read_ms,
    same_path,
)
from airflow_provider_modelarts.models import ImportMode, ImportType


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_import_type_is_inferred_like_a_missing_one(blank: str) -> None:
    assert infer_import_type("obs://b/V002.manifest", blank) is ImportType.MANIFEST
    assert infer_import_type("obs://b/images/", blank) is ImportType.DIR


def test_trailing_blanks_do_not_hide_a_manifest_suffix() -> None:
    assert infer_import_type("obs://b/V002.manifest  ") is ImportType.MANIFEST


def test_the_replies_integer_for_each_type() -> None:
    assert import_mode(ImportType.DIR) is ImportMode.DIR
    assert import_mode(ImportType.MANIFEST) is ImportMode.MANIFEST


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("s3://b/a://x/", "obs://b/a://x"),  # only the leading scheme is respelled
        ("https://b/x/", "https://b/x"),  # another scheme is kept as written
        ("obs://b/BOX/", "obs://b/BOX"),  # only slashes are trimmed, not letters
        ("obs://b/x//", "obs://b/x"),
    ],
)
def test_normalising_a_dir_path(path: str, normal: str) -> None:
    assert normalize_path(path) == normal


def test_a_manifest_path_keeps_its_trailing_slash_on_either_side() -> None:
    assert not same_path("obs://raw/V1.manifest", "obs://raw/V1.manifest/", ImportType.MANIFEST)


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (1, 1000),  # one second after the epoch: seconds
        (0.5, 500),
        (10**11 - 1, (10**11 - 1) * 1000),  # the largest value read as seconds
        (10**11, 10**11),  # from here on, milliseconds
        (5 * 10**11, 5 * 10**11),
        (-5, None),
    ],
)
def test_create_time_seconds_end_below_ten_to_the_eleven(value: Any, ms: int | None) -> None:
    assert read_ms(value) == ms
