"""Names whose home moved after Airflow 3.1, imported once from wherever the installed Airflow keeps them.

The provider supports Airflow 3.1+. Newer releases (checked: 3.3) keep the task-level exceptions
(AirflowFailException, AirflowSkipException, TaskDeferred, ...) in ``airflow.sdk.exceptions`` and export
``conf`` from ``airflow.sdk``, leaving only deprecated aliases in ``airflow.exceptions``. Airflow 3.1
(task SDK 1.1) has them only in ``airflow.exceptions`` / ``airflow.configuration``.
Importing from here keeps every module on the current spelling: no deprecation warning on new Airflow,
no ImportError on 3.1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type-check against the newest layout (the one in the dev venv)
    from airflow.sdk import conf
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowRescheduleException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
else:
    try:
        from airflow.sdk.exceptions import (
            AirflowException,
            AirflowFailException,
            AirflowRescheduleException,
            AirflowSensorTimeout,
            AirflowSkipException,
            TaskDeferred,
        )
    except ImportError:  # Airflow 3.1: task SDK 1.1 has only AirflowException there (re-exported)
        from airflow.exceptions import (
            AirflowException,
            AirflowFailException,
            AirflowRescheduleException,
            AirflowSensorTimeout,
            AirflowSkipException,
            TaskDeferred,
        )

    try:
        from airflow.sdk import conf
    except ImportError:  # Airflow 3.1: airflow.sdk does not export conf yet
        from airflow.configuration import conf

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "TaskDeferred",
    "conf",
]
