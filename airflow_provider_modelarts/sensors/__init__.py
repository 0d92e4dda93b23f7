"""Airflow sensors for ModelArts data labeling."""
