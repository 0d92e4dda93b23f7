"""The one truncation helper (_text.py): long user text becomes one readable line that says its length."""

from __future__ import annotations

from airflow_provider_modelarts._text import quote, shorten


def test_short_text_is_unchanged() -> None:
    assert shorten("cat.jpg", 10) == "cat.jpg"
    assert shorten("x" * 10, 10) == "x" * 10


def test_long_text_is_cut_to_the_limit_and_names_its_length() -> None:
    cut = shorten("y" * 5000, 40)
    assert len(cut) == 40 and cut.startswith("yyy") and cut.endswith("...[5,000 chars]")


def test_quote_shortens_the_repr() -> None:
    assert quote("a\nb") == "'a\\nb'"
    long = quote("z" * 1000, 30)
    assert len(long) == 30 and long.startswith("'zz") and long.endswith("...[1,002 chars]")
