"""ModelArtsServiceRefusingError (``_exceptions``, imported from ``errors``; a bulk run stopped early): its
message, counts, transience and pickling."""

from __future__ import annotations

import pickle

from airflow_provider_modelarts.errors import ModelArtsError, ModelArtsServiceRefusingError


def test_the_message_says_how_many_batches_in_a_row_and_the_last_error() -> None:
    error = ModelArtsServiceRefusingError(refused=8, last_error="POST /x failed with HTTP 429. ")
    assert str(error) == (
        "the service throttled or failed 8 batches in a row, so the run stopped sending "
        "(last error: POST /x failed with HTTP 429)."
    )
    assert (error.refused, error.last_error) == (8, "POST /x failed with HTTP 429. ")
    assert (error.applied, error.failed, error.not_sent) == (None, None, None)
    assert isinstance(error, ModelArtsError) and error.is_transient is True


def test_the_counts_are_in_the_message_only_once_all_three_are_known() -> None:
    partial = ModelArtsServiceRefusingError(refused=3, last_error="boom", applied=1, failed=2)
    assert "items applied" not in str(partial)
    full = partial.with_counts(applied=1200, failed=800, not_sent=18000)
    assert type(full) is ModelArtsServiceRefusingError
    assert (full.refused, full.last_error) == (3, "boom")
    assert (full.applied, full.failed, full.not_sent) == (1200, 800, 18000)
    assert str(full) == (
        "the service throttled or failed 3 batches in a row, so the run stopped sending: "
        "1,200 items applied, 800 failed, 18,000 not sent (last error: boom)."
    )
    for missing in ({"applied": None}, {"failed": None}, {"not_sent": None}):
        counts = {"applied": 1, "failed": 2, "not_sent": 3, **missing}
        assert "not sent" not in str(ModelArtsServiceRefusingError(refused=1, last_error="x", **counts))


def test_it_survives_pickling_with_every_attribute() -> None:
    error = ModelArtsServiceRefusingError(refused=8, last_error="last", applied=1, failed=2, not_sent=3)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ModelArtsServiceRefusingError and str(copy) == str(error)
    names = ("refused", "last_error", "applied", "failed", "not_sent")
    assert [getattr(copy, n) for n in names] == [getattr(error, n) for n in names]
