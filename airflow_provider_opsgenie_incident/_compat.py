"""Every Airflow name that is private, or that moved between releases (supported: 3.2 to 3.3).

Every other module of the package imports these from here, so a release that moves a name again
is one edit, and ``tests/test_compat.py`` checks each of them:

- :func:`default_deferrable`, :func:`worker_heartbeat_interval`: ``airflow.sdk.conf``.
- ``AirflowFailException``, ``AirflowSensorTimeout``, ``AirflowSkipException``,
  ``AirflowTaskTerminated``, ``TaskDeferred``: ``airflow.sdk.exceptions`` (``airflow.exceptions``
  keeps deprecated aliases of the same classes).
- :func:`mask_secret`: ``airflow.sdk.log.mask_secret``, which also tells the supervisor.
- :func:`redact_or_replace`: the secrets masker's ``redact``, which the task SDK keeps under a
  private name (``airflow.sdk._shared.secrets_masker``). It fails closed: text that cannot be
  masked is replaced by :data:`WITHHELD`, never sent out as it is.
- :func:`in_process_run`: whether ``dag.test()`` runs this task (or its trigger) in its own
  process, told by the task SDK's private ``InProcessSupervisorComms``.
- :func:`xcom_value`: the deployment's XCom backend, ``airflow.sdk.execution_time.xcom.XCom``,
  which the SDK has no public name for (3.2 to 3.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTerminated,
    TaskDeferred,
)

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

__all__ = [
    "WITHHELD",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTerminated",
    "TaskDeferred",
    "default_deferrable",
    "in_process_run",
    "mask_secret",
    "redact_or_replace",
    "worker_heartbeat_interval",
    "xcom_value",
]

#: What is sent instead of a text that Airflow's secrets masker could not check.
WITHHELD = "(text withheld: Airflow's secrets masker is unavailable, so it could not be checked for secrets)"

# The masker's home in the task SDK, then the deprecated alias 3.2 and 3.3 still keep.
_MASKER_MODULES = ("airflow.sdk._shared.secrets_masker", "airflow.sdk.execution_time.secrets_masker")


def default_deferrable() -> bool:
    """Return the deployment's ``[operators] default_deferrable`` (``False`` when unset)."""
    from airflow.sdk import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


def worker_heartbeat_interval() -> float:
    """Return the worker's ``[workers] min_heartbeat_interval`` in seconds (Airflow's default: 5)."""
    from airflow.sdk import conf

    return conf.getfloat("workers", "min_heartbeat_interval", fallback=5.0)


def mask_secret(secret: str) -> None:
    """Register a secret with Airflow's masker, in this process and in the task's supervisor."""
    from airflow.sdk.log import mask_secret as register

    register(secret)


def redact_or_replace(text: str) -> str:
    """
    Return ``text`` with every secret Airflow knows of masked, or :data:`WITHHELD` if that is impossible.

    Use it on any text about to leave for Opsgenie (a message, a description, a note, details).
    """
    import importlib
    import warnings

    for module_name in _MASKER_MODULES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the alias warns that it is deprecated
                redact = importlib.import_module(module_name).redact
        except (ImportError, AttributeError):
            continue
        try:
            return str(redact(text))
        except Exception:
            # An unmasked text could carry a key to a third party: withhold it rather than fail open.
            return WITHHELD
    return WITHHELD


def xcom_value(ti_key: TaskInstanceKey, key: str) -> Any:
    """Read one XCom of a task instance through the deployment's XCom backend (for an extra link)."""
    from airflow.sdk.execution_time.xcom import XCom

    return XCom.get_value(ti_key=ti_key, key=key)


def in_process_run() -> bool:
    """Return whether the task runs in the process that drives its DAG run, as under ``dag.test()``."""
    try:
        from airflow.sdk.execution_time import task_runner
        from airflow.sdk.execution_time.supervisor import InProcessSupervisorComms
    except ImportError:
        return False
    return isinstance(getattr(task_runner, "SUPERVISOR_COMMS", None), InProcessSupervisorComms)
