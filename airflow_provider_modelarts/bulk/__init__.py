"""Bulk sending: the Airflow-free engine that ``ModelArtsHook.add_samples`` / ``update_labels`` drive.

A run reads a :mod:`~.sources` source (local or in an object store: :mod:`~.places`) twice:
:mod:`~.validation` checks every sample first (with the checks the caller passes in, such as duplicate names
or the label-deletion guard) keeping only problems and counts, then :mod:`~.sending` re-reads it, cuts
batches with :mod:`~.planning` and sends them concurrently from one event loop, while :mod:`~.tally` counts
the outcome into the summary that becomes the operators' XCom value.

This package imports no Airflow. Import the submodules you need: this file stays empty so that importing
``bulk.planning`` for its defaults (operators do, at DAG parse time) loads neither pydantic nor httpx.
"""
