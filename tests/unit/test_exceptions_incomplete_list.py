"""IncompleteListError (``_exceptions``, imported from ``errors``): what a walk that cannot prove it read a
whole list says (client/_paging.py decides when; these tests pin the message, the attributes and that an
Airflow retry may use it)."""

from __future__ import annotations

import pickle

from airflow_provider_modelarts.errors import IncompleteListError, ModelArtsError
from airflow_provider_modelarts.retries import is_retryable


def error(counts: tuple[int, ...]) -> IncompleteListError:
    return IncompleteListError(
        what="GET /v2/p/datasets/d/data-annotations/samples",
        reason="the list changed during each of 4 passes",
        distinct=412,
        counts=counts,
        pages=19,
        passes=4,
    )


def test_the_message_names_the_list_the_reason_and_the_numbers() -> None:
    assert str(error((300, 325, 350))) == (
        "GET /v2/p/datasets/d/data-annotations/samples: could not prove every item was read (the list "
        "changed during each of 4 passes): 412 distinct items seen, counts reported: 300, 325, 350, 19 pages "
        "read in 4 passes."
    )
    assert "counts reported: none, 19 pages" in str(error(()))


def test_many_counts_are_shortened_to_the_first_three_and_the_last() -> None:
    assert "counts reported: 1, 2, 3, 4, 5, 6, 19 pages" in str(error((1, 2, 3, 4, 5, 6)))
    assert "counts reported: 1, 2, 3, ..., 7 (7 different), 19 pages" in str(error((1, 2, 3, 4, 5, 6, 7)))


def test_it_is_a_transient_modelarts_error_not_a_value_error_and_survives_pickling() -> None:
    raised = error((300,))
    assert isinstance(raised, ModelArtsError) and not isinstance(raised, ValueError)
    assert raised.is_transient and is_retryable(raised)
    copy = pickle.loads(pickle.dumps(raised))
    assert type(copy) is IncompleteListError and str(copy) == str(raised)
    assert (copy.what, copy.reason, copy.distinct, copy.counts, copy.pages, copy.passes) == (
        raised.what,
        "the list changed during each of 4 passes",
        412,
        (300,),
        19,
        4,
    )
