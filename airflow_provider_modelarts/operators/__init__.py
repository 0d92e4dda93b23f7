"""Airflow operators for ModelArts data labeling."""
