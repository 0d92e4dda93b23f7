"""Apache Airflow provider for Huawei Cloud ModelArts data labeling."""

from __future__ import annotations

__version__ = "0.1.0"
