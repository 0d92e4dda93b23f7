"""Implementation of :mod:`airflow_provider_modelarts.models`; import from there."""
