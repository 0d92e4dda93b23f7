"""Airflow hooks for ModelArts."""
