"""Airflow triggers for ModelArts data labeling."""
