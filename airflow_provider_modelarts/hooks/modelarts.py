"""``ModelArtsHook``: the ModelArts operations a labeling DAG needs, with their idempotency rules.

The connection's settings and secrets are read by :mod:`airflow_provider_modelarts.hooks.connection` and
turned into clients by :mod:`.base`; each family of operations has its own module (:mod:`.bulk`,
:mod:`.team_tasks`, :mod:`.acceptance`) and this hook is all of them. Operators make one hook call each, so
rules such as "a retried add that finds its samples already present counts them as done" live in one place,
as the amazon provider's ``SageMakerHook`` does for SageMaker.
"""

from __future__ import annotations

from airflow_provider_modelarts.hooks.acceptance import ModelArtsAcceptanceOperations
from airflow_provider_modelarts.hooks.bulk import SAMPLE_EXISTS, ModelArtsBulkOperations
from airflow_provider_modelarts.hooks.connection import ModelArtsConnectionSettings, build_auth
from airflow_provider_modelarts.hooks.team_tasks import ModelArtsTeamTaskOperations

__all__ = ["SAMPLE_EXISTS", "ModelArtsConnectionSettings", "ModelArtsHook", "build_auth"]


class ModelArtsHook(ModelArtsBulkOperations, ModelArtsTeamTaskOperations, ModelArtsAcceptanceOperations):
    """The ModelArts operations of a labeling DAG, on an Airflow connection of type ``modelarts``.

    Operations: :meth:`add_samples`, :meth:`update_labels` (bulk, validated first, safe to retry),
    :meth:`create_team_task` / :meth:`delete_team_task` (adopt by name), :meth:`start_acceptance` (start or
    adopt), :meth:`apply_acceptance_action` (once), :meth:`decide_acceptance`, :meth:`evaluate_acceptance`.
    :meth:`get_conn` gives the typed client for anything else.

    The connection's login / password are the AK / SK (``auth_type`` ``aksk``, the default; add
    ``security_token`` in the extra for temporary credentials) or, with ``auth_type`` ``password``, an IAM
    user's name and password (``user_name`` / ``user_password`` extras take precedence). Other extras:
    ``project_id``, ``region``, ``endpoint``, ``iam_endpoint``, ``domain_name``, ``verify``, ``timeout``.

    :param modelarts_conn_id: the connection to use.
    :param project_id: use this project instead of the connection's ``project_id``.
    :param retry: retry policy of the clients this hook builds (the client's default if not given).
    """
