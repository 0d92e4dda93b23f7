"""One operator per acceptance verb of a team labeling task, and the deprecated three-mode operator.

* :class:`StartAcceptanceOperator`: start a round (``ModelArtsHook.start_acceptance``);
* :class:`ApplyAcceptanceActionOperator`: pass, reject or cancel (``ModelArtsHook.apply_acceptance_action``);
* :class:`DecideAcceptanceOperator`: pass or reject by pass rate (``ModelArtsHook.decide_acceptance``).

Thin on purpose, on one small base (:class:`~.acceptance_base.AcceptanceBaseOperator`: the ids, the console
link, the hook closed after its one call): each checks and renders its own arguments, makes its hook call,
logs the outcome and returns a small XCom summary. The rules (start-or-adopt a round, apply an action once,
pass or reject by pass rate) live in the hook and in :mod:`airflow_provider_modelarts.acceptance`.

:class:`AcceptanceOperator` (deprecated; removed in the next release) chose among the three by which of
``start_acceptance=True``, ``action`` or ``min_pass_rate`` it was given. It now warns
(``AirflowProviderDeprecationWarning``) and builds the matching new operator (its ``__new__``, and its
``partial`` for a mapped task), which gets only its own arguments: the others were ignored by that mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from warnings import warn

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.acceptance import parse_action, parse_min_pass_rate
from airflow_provider_modelarts.operators.acceptance_base import AcceptanceBaseOperator
from airflow_provider_modelarts.operators.base import LABELS_ACCEPTED_ALIAS, modelarts_template_fields

try:
    from airflow.exceptions import AirflowProviderDeprecationWarning as _Deprecated
except ImportError:  # pragma: no cover - every Airflow 3 release defines it
    _Deprecated = DeprecationWarning  # type: ignore[misc,assignment]

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
    from airflow_provider_modelarts.models import AcceptanceAction

__all__ = [
    "AcceptanceOperator",
    "ApplyAcceptanceActionOperator",
    "DecideAcceptanceOperator",
    "StartAcceptanceOperator",
]


class StartAcceptanceOperator(AcceptanceBaseOperator):
    """Start an acceptance round of a team labeling task (``POST .../workforce-tasks/{id}/acceptance``).

    :param sampling_rate: share of the labeled samples to check, in (0, 1] (templated); or
    :param sampling_num: how many samples to check, at least 1 (templated). Give exactly one.

    Returns (XCom) ``mode`` (``start_acceptance``), the ids, ``checking_task_id`` (feed it to
    ``AcceptanceSensor``), ``already_started``, ``sampling_rate`` and ``sampling_num``. Starting a round
    accepts no labels: no ``AssetAlias`` is declared unless ``asset_alias`` names one, and no event is sent.

    Safe to retry: when an earlier try already started the round (``ModelArts.4623``), the running round's
    id is returned.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "workforce_task_id", "sampling_rate", "sampling_num"
    )
    mode = "start_acceptance"

    def __init__(
        self,
        *,
        sampling_rate: float | str | None = None,
        sampling_num: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        self.check_arguments({"sampling_rate": sampling_rate, "sampling_num": sampling_num, **kwargs})
        super().__init__(**kwargs)
        self.sampling_rate = sampling_rate
        self.sampling_num = sampling_num

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks and exactly one of ``sampling_rate`` / ``sampling_num`` (once both are known)."""
        super().check_arguments(arguments)
        rate, num = arguments.get("sampling_rate"), arguments.get("sampling_num")
        if rate is not None and num is not None:
            raise ValueError("give sampling_rate or sampling_num, not both (the service takes one)")
        if {"sampling_rate", "sampling_num"}.issubset(arguments) and rate is None and num is None:
            raise ValueError(f"{cls.__name__} needs sampling_rate (0-1] or sampling_num")

    def call(self, context: Context, hook: ModelArtsHook) -> dict[str, Any]:
        rate = _number("sampling_rate", self.sampling_rate, float)
        num = _number("sampling_num", self.sampling_num, int)
        if rate is not None and not 0 < rate <= 1:
            raise AirflowFailException(f"sampling_rate must be in (0, 1], got {quote(rate)}")
        if num is not None and num < 1:
            raise AirflowFailException(f"sampling_num must be at least 1, got {quote(num)}")
        started = hook.start_acceptance(
            self.dataset_id, self.workforce_task_id, sampling_rate=rate, sampling_num=num
        )
        if not started.already_started:
            self.log.info(
                "Started acceptance round %s of team labeling task %s (sampling %s).",
                started.checking_task_id,
                self.workforce_task_id,
                f"rate {rate:g}" if rate is not None else f"{num} samples",
            )
        return {**started.summary(), "sampling_rate": rate, "sampling_num": num}


class ApplyAcceptanceActionOperator(AcceptanceBaseOperator):
    """Update a team labeling task's acceptance status once (``PUT .../acceptance/status?locale=``).

    :param action: an :class:`~airflow_provider_modelarts.models.AcceptanceAction`, its int, or its name in
        any case (templated): ``pass_all`` (0), ``reject_all`` (1), ``cancel`` (2), ``view_conflicts`` (3),
        ``pass_single_accepted_and_unaccepted`` (4), ``pass_single_accepted`` (5).
    :param overwrite_last_result: whether the acceptance result overwrites labels changed during the
        acceptance (service default ``False``).
    :param locale: ``locale`` query parameter (default ``en-us``, templated).
    :param asset_alias: default ``modelarts-labels-accepted``; a pass action (0, 4, 5) adds the team task's
        asset to it with ``extra``: ``dataset_id``, ``workforce_task_id``, ``action``, ``sample_count``.

    Returns (XCom) ``mode`` (``action``), the ids, ``action``, ``action_code``, ``sample_count``,
    ``samples_preview`` (first 10 sample ids) and ``already_applied``. Safe to retry: when an earlier try
    already applied the action (the service then refuses it), the task's status is checked and the action
    counted as applied.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "workforce_task_id", "action", "locale"
    )
    default_asset_alias = LABELS_ACCEPTED_ALIAS
    mode = "action"

    def __init__(
        self,
        *,
        action: AcceptanceAction | int | str,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
        **kwargs: Any,
    ) -> None:
        arguments = {"action": action, "overwrite_last_result": overwrite_last_result, "locale": locale}
        self.check_arguments({**arguments, **kwargs})
        super().__init__(**kwargs)
        self.action = action
        self.overwrite_last_result = overwrite_last_result
        self.locale = locale

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks and an ``action`` given (its value is judged once rendered)."""
        super().check_arguments(arguments)
        if "action" in arguments and arguments["action"] is None:
            raise ValueError(f"{cls.__name__} needs an action (pass_all, reject_all, cancel, ...)")

    def call(self, context: Context, hook: ModelArtsHook) -> dict[str, Any]:
        try:
            action = parse_action(self.action)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None
        applied = hook.apply_acceptance_action(
            self.dataset_id,
            self.workforce_task_id,
            action,
            overwrite_last_result=self.overwrite_last_result,
            locale=self._locale(self.locale),
        )
        self.log.info(
            "Acceptance action %s (%s) on team labeling task %s: %s samples%s.",
            action.name,
            int(action),
            self.workforce_task_id,
            applied.sample_count,
            " (already applied by an earlier try)" if applied.already_applied else "",
        )
        result = applied.summary()
        self.announce_accepted(context, hook, result)
        return result


class DecideAcceptanceOperator(AcceptanceBaseOperator):
    """Pass all samples when the round's pass rate reaches ``min_pass_rate``, otherwise reject all.

    Reads the acceptance report of the current (or given) round, then applies the decision once, as
    :class:`ApplyAcceptanceActionOperator` would. The decision and the figures are logged and returned.

    :param min_pass_rate: the lowest pass rate that passes, between 0 and 1 (templated).
    :param checking_task_id: round to judge (templated; default: the task's current round).
    :param require_all_checked: refuse to decide while sampled samples are still unchecked (default
        ``True``; wait with ``AcceptanceSensor(check_complete=True)`` first).
    :param overwrite_last_result: as for :class:`ApplyAcceptanceActionOperator`.
    :param locale: as for :class:`ApplyAcceptanceActionOperator`.
    :param asset_alias: default ``modelarts-labels-accepted``; a passing decision adds the team task's asset
        to it with ``extra``: ``dataset_id``, ``workforce_task_id``, ``checking_task_id``, ``decision``,
        ``pass_rate``, ``min_pass_rate``, the round's counts, ``action`` and ``sample_count``. A rejection
        adds nothing, so DAGs scheduled on the alias do not run.

    Returns (XCom) ``mode`` (``pass_rate_decision``), the ids, ``decision``, ``passed``, ``pass_rate``,
    ``min_pass_rate``, the counts, and what :class:`ApplyAcceptanceActionOperator` returns. Safe to retry:
    the same figures decide the same again, and the action is applied once.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "workforce_task_id", "min_pass_rate", "checking_task_id", "locale"
    )
    default_asset_alias = LABELS_ACCEPTED_ALIAS
    mode = "pass_rate_decision"

    def __init__(
        self,
        *,
        min_pass_rate: float | str,
        checking_task_id: str | None = None,
        require_all_checked: bool = True,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
        **kwargs: Any,
    ) -> None:
        arguments = {"min_pass_rate": min_pass_rate, "overwrite_last_result": overwrite_last_result}
        self.check_arguments({**arguments, "locale": locale, **kwargs})
        super().__init__(**kwargs)
        self.min_pass_rate = min_pass_rate
        self.checking_task_id = checking_task_id
        self.require_all_checked = require_all_checked
        self.overwrite_last_result = overwrite_last_result
        self.locale = locale

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks and ``min_pass_rate``: given, and between 0 and 1 unless it is a template."""
        super().check_arguments(arguments)
        if "min_pass_rate" in arguments and arguments["min_pass_rate"] is None:
            raise ValueError(f"{cls.__name__} needs min_pass_rate, a number between 0 and 1")
        min_pass_rate = arguments.get("min_pass_rate")
        if isinstance(min_pass_rate, (int, float)):  # templates are checked once rendered, in execute
            parse_min_pass_rate(min_pass_rate)

    def call(self, context: Context, hook: ModelArtsHook) -> dict[str, Any]:
        try:
            minimum = parse_min_pass_rate(self.min_pass_rate)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None
        if minimum is None:
            raise AirflowFailException("min_pass_rate rendered to nothing; give a number between 0 and 1")
        decision, applied = hook.decide_acceptance(
            self.dataset_id,
            self.workforce_task_id,
            min_pass_rate=minimum,
            checking_task_id=self.checking_task_id or None,
            require_all_checked=self.require_all_checked,
            overwrite_last_result=self.overwrite_last_result,
            locale=self._locale(self.locale),
        )
        result = {**decision.summary(), **applied.summary()}
        self.announce_accepted(context, hook, result)
        return result


class AcceptanceOperator(AcceptanceBaseOperator):
    """Deprecated (removed in the next release): use :class:`StartAcceptanceOperator`
    (``start_acceptance=True``), :class:`ApplyAcceptanceActionOperator` (``action=``) or
    :class:`DecideAcceptanceOperator` (``min_pass_rate=``).

    Building one warns and returns the operator of the mode its arguments name, given the arguments that
    operator takes (the mode ignored the others). ``partial`` does the same when its arguments name the
    mode; when ``expand`` maps the mode, each mapped task builds its operator as it runs, and the arguments
    of the other modes are set on it as ``None`` (Airflow renders a mapped task with its class's fields).
    """

    #: The fields of all three (a mapped task whose mode ``expand`` maps is rendered with these).
    template_fields: Sequence[str] = modelarts_template_fields(
        *("dataset_id", "workforce_task_id", "action", "checking_task_id", "sampling_rate", "sampling_num"),
        *("min_pass_rate", "locale"),
    )
    default_asset_alias = LABELS_ACCEPTED_ALIAS

    def __new__(cls, **kwargs: Any) -> Any:
        _warn()
        modes = {"action": None, "start_acceptance": False, "min_pass_rate": None}
        cls.check_arguments({**modes, **kwargs})
        target = cls.matching(kwargs)
        assert target is not None  # check_arguments refuses arguments that name no mode
        operator = target(**_taken_by(target, kwargs))
        if kwargs.get("_airflow_from_mapped"):
            for name in cls.template_fields:
                if not hasattr(operator, name):
                    setattr(operator, name, None)
        return operator

    def __init__(
        self,
        *,
        action: AcceptanceAction | int | str | None = None,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
        start_acceptance: bool = False,
        sampling_rate: float | str | None = None,
        sampling_num: int | str | None = None,
        min_pass_rate: float | str | None = None,
        checking_task_id: str | None = None,
        require_all_checked: bool = True,
        **kwargs: Any,
    ) -> None:
        """Never runs (``__new__`` returns another operator); Airflow reads these names when it checks what
        ``partial`` and ``expand`` receive."""
        raise TypeError("AcceptanceOperator builds the operator of its mode in __new__")  # pragma: no cover

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """The matching operator's ``partial``, or (the mode mapped) this class's: see the class docstring."""
        _warn()
        cls.check_arguments(kwargs)
        target = cls.matching(kwargs)
        if target is None:
            return super().partial(**kwargs)
        return target.partial(**_taken_by(target, kwargs))

    @classmethod
    def matching(cls, arguments: Mapping[str, Any]) -> type[AcceptanceBaseOperator] | None:
        """The operator of the mode ``arguments`` name; ``None`` when they name none (mapped, or missing)."""
        if arguments.get("start_acceptance"):
            return StartAcceptanceOperator
        if arguments.get("min_pass_rate") is not None:
            return DecideAcceptanceOperator
        if arguments.get("action") is not None:
            return ApplyAcceptanceActionOperator
        return None

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The old rules: exactly one mode, sampling only to start, and the new operators' own checks."""
        super().check_arguments(arguments)
        start = arguments.get("start_acceptance")
        given = {
            "action": arguments.get("action") is not None,
            "start_acceptance=True": bool(start),
            "min_pass_rate": arguments.get("min_pass_rate") is not None,
        }
        modes = [name for name, present in given.items() if present]
        if len(modes) > 1 or (
            not modes and {"action", "start_acceptance", "min_pass_rate"}.issubset(arguments)
        ):
            raise ValueError(
                "AcceptanceOperator needs exactly one of action=, start_acceptance=True or min_pass_rate= "
                f"(given: {', '.join(modes) or 'none'})"
            )
        rate, num = arguments.get("sampling_rate"), arguments.get("sampling_num")
        if "start_acceptance" in arguments and not start and (rate is not None or num is not None):
            raise ValueError("sampling_rate / sampling_num only apply with start_acceptance=True")
        if start and {"sampling_rate", "sampling_num"}.issubset(arguments) and rate is None and num is None:
            raise ValueError("start_acceptance=True needs sampling_rate (0-1] or sampling_num")
        if (target := cls.matching(arguments)) is not None:
            target.check_arguments(_taken_by(target, arguments))

    @classmethod
    def default_alias(cls, arguments: Mapping[str, Any]) -> str | None:
        """Starting a round accepts nothing: no alias in the outlets then (mapped tasks included)."""
        return None if arguments.get("start_acceptance") else super().default_alias(arguments)


#: The arguments of ``AcceptanceOperator``'s modes and the operators taking each (any other: all of them).
_TAKERS: dict[str, tuple[type[AcceptanceBaseOperator], ...]] = {
    "start_acceptance": (),
    "sampling_rate": (StartAcceptanceOperator,),
    "sampling_num": (StartAcceptanceOperator,),
    "action": (ApplyAcceptanceActionOperator,),
    "overwrite_last_result": (ApplyAcceptanceActionOperator, DecideAcceptanceOperator),
    "locale": (ApplyAcceptanceActionOperator, DecideAcceptanceOperator),
    "min_pass_rate": (DecideAcceptanceOperator,),
    "checking_task_id": (DecideAcceptanceOperator,),
    "require_all_checked": (DecideAcceptanceOperator,),
}


def _taken_by(target: type[AcceptanceBaseOperator], arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in arguments.items() if target in _TAKERS.get(name, (target,))}


def _warn() -> None:
    # ``warn`` by name: Airflow rebinds a module global ``warnings`` of operator modules (the stack levels).
    warn(
        "AcceptanceOperator is deprecated and will be removed in the next release: use "
        "StartAcceptanceOperator, ApplyAcceptanceActionOperator or DecideAcceptanceOperator",
        _Deprecated,
        stacklevel=3,
    )


def _number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    """Numbers may arrive as text from templates ("0.95", "{{ params.rate }}")."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    if isinstance(value, bool):
        raise AirflowFailException(f"{name} must be a number, got {quote(value)}")
    try:
        return float(value) if kind is float else int(str(value).strip())
    except (TypeError, ValueError, OverflowError):
        raise AirflowFailException(f"{name} must be a number, got {quote(value)}") from None
