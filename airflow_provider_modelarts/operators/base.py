"""What every ModelArts operator and sensor shares: the connection arguments, declared once, and ``hook``.

As in the amazon provider (``AwsBaseOperator``, ``AwsBaseHookMixin.hook``): a task's hook is built in one
``cached_property`` from ``modelarts_conn_id``, ``project_id`` and ``client_retry``, so an operator's
``execute`` only says ``self.hook``. The trigger (which runs in the triggerer and builds its own async client)
and the extra links (which get an operator that may not be one of ours) build theirs with
:func:`modelarts_hook`, the same single constructor.

Sensors use the same base: ``class MySensor(ModelArtsBaseOperator, BaseSensorOperator)`` puts the three
arguments before the sensor's own (``poke_interval``, ``mode``, ...).

The hook module (client, models, auth) is imported only when a hook is built: DAG files import operator
modules on every parse and never call ``execute``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import RetryPolicy
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

__all__ = ["ModelArtsBaseOperator", "modelarts_hook", "modelarts_template_fields"]


def modelarts_hook(
    modelarts_conn_id: str, *, project_id: str | None = None, retry: RetryPolicy | None = None
) -> ModelArtsHook:
    """The one way tasks, the trigger and the links build a :class:`ModelArtsHook`.

    An empty ``project_id`` (a template that rendered to nothing) means the connection's project.
    """
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

    return ModelArtsHook(modelarts_conn_id, project_id=project_id or None, retry=retry)


def modelarts_template_fields(*template_fields: str) -> tuple[str, ...]:
    """``template_fields`` of an operator: its own fields, then the base's templated ``project_id``."""
    return tuple(dict.fromkeys((*template_fields, *ModelArtsBaseOperator.template_fields)))


class ModelArtsBaseOperator(BaseOperator):
    """Base of the ModelArts operators and sensors: the connection arguments and the cached :attr:`hook`.

    :param modelarts_conn_id: Airflow connection of type ``modelarts``.
    :param project_id: project to use instead of the connection's (templated).
    :param client_retry: client ``RetryPolicy`` for 429/5xx/network errors (attempts, backoff, deadline);
        default: the client's (6 attempts within 300 s).
    """

    template_fields: Sequence[str] = ("project_id",)

    def __init__(
        self,
        *,
        modelarts_conn_id: str = "modelarts_default",
        project_id: str | None = None,
        client_retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.modelarts_conn_id = modelarts_conn_id
        self.project_id = project_id
        self.client_retry = client_retry

    @cached_property
    def hook(self) -> ModelArtsHook:
        """The task's hook, built on first use (after the templates were rendered) and kept for the try."""
        return modelarts_hook(self.modelarts_conn_id, project_id=self.project_id, retry=self.client_retry)
