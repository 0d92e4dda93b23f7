"""What every ModelArts operator and sensor shares: the connection arguments, declared once, and ``hook``.

As in the amazon provider (``AwsBaseOperator``, ``AwsBaseHookMixin.hook``): a task's hook is built in one
``cached_property`` from ``modelarts_conn_id``, ``project_id`` and ``client_retry``, so an operator's
``execute`` only says ``self.hook``. It is built by ``ModelArtsHook.for_connection``, the single constructor
that the trigger (which runs in the triggerer and builds its own async client) and the extra links (which
get an operator that may not be one of ours) use too: the hook module builds itself, and nothing below the
operators imports this package.

Sensors use the same base: ``class MySensor(ModelArtsBaseOperator, BaseSensorOperator)`` puts the three
arguments before the sensor's own (``poke_interval``, ``mode``, ...).

The hook module (client, models, auth) is imported only when a hook is built: DAG files import operator
modules on every parse and never call ``execute``.

**Asset events** (see the README's *Assets*): a task's outlets are fixed when the DAG is parsed, while the
dataset and team task it works on are usually templates. So each operator that changes labeling data
declares an :class:`~airflow.sdk.AssetAlias` in its outlets (``asset_alias``, one default name per kind of
change) and, once it succeeded, :meth:`ModelArtsBaseOperator.announce` adds the ``modelarts://`` asset it
changed to that alias with a small ``extra``. Nothing is added when there is nothing to announce (a rejected
acceptance), and an event through an alias starts the DAGs scheduled on that alias (or on that very asset),
not those scheduled on another alias. An ``Asset`` the user lists in ``outlets`` gets the same ``extra`` when
its URI is the one changed.

**Parse time, mapped tasks included:** the argument checks that need no rendered template live in each
operator's :meth:`~ModelArtsBaseOperator.check_arguments`. ``__init__`` runs them, and so does
:meth:`ModelArtsBaseOperator.partial` on what ``partial`` receives, because a mapped task's
(``.partial(...).expand(...)``) operator is built only when each mapped task instance runs; ``partial`` also
puts the alias in the outlets, so a mapped task declares it when the DAG is parsed.

**Lineage:** :meth:`ModelArtsBaseOperator.get_openlineage_facets_on_complete` reports what the task recorded
with :meth:`~ModelArtsBaseOperator.record_lineage`; the openlineage provider is imported only inside it.

**Resuming from a trigger:** :func:`read_trigger_event` is the one check of what a polling trigger
(``triggers/polling.py``) handed back: a dict, a known status, figures; an API error fails the try
retryably, ``soft_fail`` skips it with the reason. ``AcceptanceSensor`` and ``ImportFromObsOperator`` use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import Asset, AssetAlias, BaseOperator

from airflow_provider_modelarts._text import quote

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.client import RetryPolicy
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

__all__ = [
    "LABELS_ACCEPTED_ALIAS",
    "LABELS_UPDATED_ALIAS",
    "SAMPLES_ADDED_ALIAS",
    "SAMPLES_IMPORTED_ALIAS",
    "ModelArtsBaseOperator",
    "modelarts_template_fields",
    "read_trigger_event",
    "storage_location",
    "with_alias",
]

#: Default alias of each kind of change (``asset_alias`` of the operators that make it).
SAMPLES_ADDED_ALIAS = "modelarts-samples-added"
LABELS_UPDATED_ALIAS = "modelarts-labels-updated"
LABELS_ACCEPTED_ALIAS = "modelarts-labels-accepted"
SAMPLES_IMPORTED_ALIAS = "modelarts-samples-imported"
#: ``asset_alias`` not given: the class's :attr:`ModelArtsBaseOperator.default_asset_alias`.
_CLASS_DEFAULT: Any = object()


def with_alias(outlets: Any, alias: str) -> list[Any]:
    """``outlets`` (``None``, one outlet or a list) as a list that ends with ``AssetAlias(alias)``, once.

    A mapped task's operator is built from the outlets ``partial`` already completed: the alias is not
    added twice.
    """
    listed = [] if outlets is None else list(outlets) if isinstance(outlets, (list, tuple)) else [outlets]
    declared = AssetAlias(alias)
    return listed if declared in listed else [*listed, declared]


def storage_location(location: Any, conn_id: str | None = None) -> Any:
    """Where a task reads or writes a file, as the Airflow-free modules take it: a local path as is, a URL as
    an ``ObjectStoragePath`` with the Airflow connection ``conn_id`` (a ``file://`` one is still read and
    written as a local file), a path object as it is.

    Raises ``AirflowFailException`` for a URL ``ObjectStoragePath`` cannot parse, without repeating it (it
    may hold credentials).
    """
    if not isinstance(location, str) or "://" not in location:
        return location
    from airflow.providers.common.compat.sdk import AirflowFailException
    from airflow.sdk import ObjectStoragePath

    try:
        # conn_id only when given: Airflow 3.1 keeps an explicit conn_id=None over the URL's own
        # (s3://<conn_id>@bucket/...), so passing None would drop the connection the URL names.
        if conn_id:
            return ObjectStoragePath(location.strip(), conn_id=conn_id)
        return ObjectStoragePath(location.strip())
    except ValueError:  # its message quotes the URL's parts, a password among them (3.1: "Port ... 'pw'")
        raise AirflowFailException(
            "a URL Airflow's ObjectStoragePath cannot parse (not repeated here: it may hold credentials); "
            "keep credentials in the Airflow connection named by storage_conn_id"
        ) from None


def read_trigger_event(
    task: BaseOperator, event: Any, *, what: str, skip_instead: bool = False
) -> tuple[str, str, dict[str, Any]]:
    """``(status, message, figures)`` of a polling trigger's event, checked; raises for what it settles.

    Raises ``AirflowException`` for an event that is not a dict with a status of
    :data:`~airflow_provider_modelarts.waiting.EVENT_STATUSES` and figures, and for an ``api_error`` event
    (a normal, retryable failure, as a look in the worker would give); ``AirflowSkipException`` with the
    reason for any other non-success when ``skip_instead`` (``soft_fail``). Logs the message (INFO on
    success, else ERROR). ``what`` names the wait in the default message ("acceptance wait").
    """
    from airflow.providers.common.compat.sdk import AirflowException, AirflowSkipException

    from airflow_provider_modelarts.waiting import EVENT_STATUSES

    name = f"{type(task).__name__} {task.task_id}"
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise AirflowException(
            f"{name} received an unexpected trigger event {event!r}; expected a dict with 'status' in "
            f"{list(EVENT_STATUSES)}."
        )
    status = event["status"]
    message = str(event.get("message") or f"{what} ended with status {status}")
    figures = event.get("figures")
    if not isinstance(figures, dict):
        raise AirflowException(f"{name} received a trigger event without figures: {event!r}.")
    if status == "success":
        task.log.info("%s", message)
        return status, message, figures
    task.log.error("%s", message)
    if event.get("api_error"):
        raise AirflowException(message)
    if skip_instead:
        # The base class would turn the error into a generic skip; keep the reason in the skip message.
        raise AirflowSkipException(f"soft_fail: {message}")
    return status, message, figures


def modelarts_template_fields(*template_fields: str) -> tuple[str, ...]:
    """``template_fields`` of an operator: its own fields, then the base's templated ``project_id``."""
    return tuple(dict.fromkeys((*template_fields, *ModelArtsBaseOperator.template_fields)))


class ModelArtsBaseOperator(BaseOperator):
    """Base of the ModelArts operators and sensors: the connection arguments and the cached :attr:`hook`.

    :param modelarts_conn_id: Airflow connection of type ``modelarts``.
    :param project_id: project to use instead of the connection's (templated).
    :param client_retry: client ``RetryPolicy`` for 429/5xx/network errors (attempts, backoff, deadline);
        default: the client's (6 attempts within 300 s).
    :param asset_alias: name of the ``AssetAlias`` this task's asset events go through (added to its
        ``outlets``); default: the operator's own (``modelarts-samples-added``, ``modelarts-labels-updated``,
        ``modelarts-labels-accepted``; none for operators that change no labeling data); ``None``: no events.
    """

    template_fields: Sequence[str] = ("project_id",)
    #: The alias used when ``asset_alias`` is not given (None: the operator announces nothing).
    default_asset_alias: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        modelarts_conn_id: str = "modelarts_default",
        project_id: str | None = None,
        client_retry: RetryPolicy | None = None,
        asset_alias: str | None = _CLASS_DEFAULT,
        **kwargs: Any,
    ) -> None:
        alias = self.declared_asset_alias({"asset_alias": asset_alias})
        if alias is not None:
            kwargs["outlets"] = with_alias(kwargs.get("outlets"), alias)
        super().__init__(**kwargs)
        self.modelarts_conn_id = modelarts_conn_id
        self.project_id = project_id
        self.client_retry = client_retry
        self.asset_alias = alias
        #: ``(inputs, outputs)``: URIs or paths this try read and wrote, for OpenLineage.
        self.lineage_uris: tuple[list[str], list[str]] = ([], [])

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """``BaseOperator.partial`` (``.partial(...).expand(...)``) with what ``__init__`` does at parse time.

        A mapped task's operator is built only when each mapped task instance runs, so the parse-time checks
        and the alias in the outlets are applied here to the arguments ``partial`` receives: the same
        :meth:`check_arguments` and :meth:`declared_asset_alias` that ``__init__`` uses. (Airflow's operator
        metaclass lets operator classes override ``partial``.)
        """
        cls.check_arguments(kwargs)
        alias = cls.declared_asset_alias(kwargs)
        if alias is not None:
            kwargs["outlets"] = with_alias(kwargs.get("outlets"), alias)
        return super().partial(**kwargs)

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` for an argument that can be judged before the templates are rendered.

        ``arguments`` holds the arguments given by name (all of them from ``__init__``; from ``partial``
        only those not mapped). Each check looks only at the arguments present in it. Subclasses extend
        this and call it from their ``__init__``; the base checks ``asset_alias``.
        """
        cls.declared_asset_alias(arguments)

    @classmethod
    def default_alias(cls, arguments: Mapping[str, Any]) -> str | None:
        """The alias used when ``asset_alias`` is not given: :attr:`default_asset_alias` (subclasses may
        let it depend on their ``arguments``)."""
        return cls.default_asset_alias

    @classmethod
    def declared_asset_alias(cls, arguments: Mapping[str, Any]) -> str | None:
        """The alias name a task given ``arguments`` declares in its outlets (``None``: none).

        ``asset_alias`` if given (``None``: none), else :meth:`default_alias`. Raises ``ValueError`` for an
        ``asset_alias`` that is neither a non-blank name nor ``None``.
        """
        alias = arguments.get("asset_alias", _CLASS_DEFAULT)
        if alias is _CLASS_DEFAULT:
            alias = cls.default_alias(arguments)
        if alias is None:
            return None
        if not isinstance(alias, str) or not alias.strip():
            raise ValueError(f"asset_alias must be an alias name or None, got {quote(alias)}")
        return alias.strip()

    @cached_property
    def hook(self) -> ModelArtsHook:
        """The task's hook, built on first use (after the templates were rendered) and kept for the try."""
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        return ModelArtsHook.for_connection(
            self.modelarts_conn_id, project_id=self.project_id, retry=self.client_retry
        )

    def announce(self, context: Context, uri: str, extra: dict[str, Any]) -> None:
        """Emit an asset event for ``uri`` (a ``modelarts://`` URI) through the task's alias, with ``extra``.

        Also puts ``extra`` on an ``Asset`` of the same URI that the user listed in ``outlets`` (Airflow emits
        those on success anyway). Without ``outlet_events`` in the context (a bare ``execute`` call in a
        test) there is nothing to emit to.
        """
        events = context.get("outlet_events") if isinstance(context, Mapping) else None
        if events is None:
            return
        if self.asset_alias is not None:
            events[AssetAlias(self.asset_alias)].add(Asset(uri), extra=extra)
            self.log.info("Asset event for %s through alias %s: %s", uri, self.asset_alias, extra)
        for outlet in self.outlets:
            if isinstance(outlet, Asset) and outlet.uri == uri:
                events[outlet].extra.update(extra)

    def record_lineage(self, inputs: Sequence[str] = (), outputs: Sequence[str] = ()) -> None:
        """What this try read and wrote (URIs or paths), for :meth:`get_openlineage_facets_on_complete`."""
        self.lineage_uris = (list(inputs), list(outputs))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The OpenLineage ``OperatorLineage`` of this try (called by the openlineage provider's listener).

        Imports the openlineage provider here only, so without it nothing is imported.
        """
        from airflow_provider_modelarts.lineage import operator_lineage

        return operator_lineage(*self.lineage_uris)
