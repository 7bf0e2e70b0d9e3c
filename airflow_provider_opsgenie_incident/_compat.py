"""Airflow names that moved between the supported releases, each imported here with its fallback.

Every other module imports these from here, so a release that moves a name again is one edit.
"""

from __future__ import annotations

__all__ = ["default_deferrable"]


def default_deferrable() -> bool:
    """Return the deployment's ``[operators] default_deferrable`` (``False`` when unset)."""
    try:
        from airflow.sdk import conf
    except ImportError:  # Airflow 3.1: the task SDK has no conf yet
        from airflow.configuration import conf  # type: ignore[assignment]
    return conf.getboolean("operators", "default_deferrable", fallback=False)
