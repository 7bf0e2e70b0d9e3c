"""Fingerprint tags: how an incident opened by a notifier says what it stands for.

Opsgenie incidents have no alias, so each incident opened by a notifier carries a tag derived
from what it stands for, by default the DAG id and task id: ``af:<readable label>:<10 hex>``,
within the 50-character tag limit. :func:`open_query` searches the open incidents carrying one.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from airflow_provider_opsgenie_incident.client.catalogue import TAG_LIMIT
from airflow_provider_opsgenie_incident.client.validation import largest_cap

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["FINGERPRINT_PREFIX", "HASH_LENGTH", "fingerprint_tag", "open_query", "run_fingerprint"]

FINGERPRINT_PREFIX = "af:"
HASH_LENGTH = 10
# Kept readable as is; anything else (quotes, commas, spaces) would need escaping in a search or a removal.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SEPARATOR = "\x1f"  # cannot occur in a DAG or task id, so the fingerprint key is unambiguous


def fingerprint_tag(key: str, label: str | Sequence[str] | None = None) -> str:
    """
    Return the tag that identifies the incidents of ``key``: ``af:<label>:<10 hex>``, at most 50 chars.

    The hash covers the whole key, so a long label cut to fit still gives distinct tags; the label
    (``key`` by default) is only for people reading the incident, with unsafe characters replaced.
    A label given as parts (a DAG id and a task id) is joined with dots, each part cut in turn,
    longest first, so that a long DAG id does not push the task id out.

    :param key: what the incident stands for, e.g. a task's DAG id and task id, joined unambiguously.
    :param label: the readable part, e.g. ``("<dag_id>", "<task_id>")``.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:HASH_LENGTH]
    room = TAG_LIMIT - len(FINGERPRINT_PREFIX) - 1 - HASH_LENGTH
    parts = [key] if label is None else [label] if isinstance(label, str) else list(label)
    parts = [_UNSAFE.sub("_", part) for part in parts]
    cap = largest_cap([len(part) for part in parts], room - (len(parts) - 1))
    return f"{FINGERPRINT_PREFIX}{'.'.join(part[:cap] for part in parts)}:{digest}"


def open_query(tag: str) -> str:
    """Return the search query for the open incidents carrying ``tag``."""
    return f'status:open AND tag:"{tag}"'


def run_fingerprint(dag_id: str, task_id: str | None = None, override: str | None = None) -> str:
    """Return the fingerprint tag of a task (DAG id and task id) or a DAG, or of ``override`` if given."""
    if override:
        return fingerprint_tag(override)
    if task_id:
        return fingerprint_tag(_SEPARATOR.join(("task", dag_id, task_id)), (dag_id, task_id))
    return fingerprint_tag(_SEPARATOR.join(("dag", dag_id)), dag_id)
