"""What a callback is about, read from whichever context it was given (imported when a callback runs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["Run"]


def _field(source: Any, name: str) -> Any:
    """Read ``name`` from an object or a mapping (the triggerer's ``dag_run`` is a plain dict)."""
    if source is None:
        return None
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return str(value)


def _moment(value: Any) -> str | None:
    """Return a time as the timeline wants it (UTC, ``Z``), or None when there is none."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _question(context: Mapping[str, Any]) -> str | None:
    """Return the subject of a Human-in-the-loop task calling its notifiers as its wait starts."""
    task = context.get("task")
    waits = "exception" not in context and "HITLOperator" in {c.__name__ for c in type(task).__mro__}
    return (_text(getattr(task, "subject", None)) or "a decision") if waits else None


@dataclass(frozen=True)
class Run:
    """What a callback is about, read from whichever context the caller had."""

    scope: Literal["task", "dag", "deadline"]
    dag_id: str
    task_id: str | None = None
    run_id: str | None = None
    try_number: str | None = None
    map_index: str | None = None
    logical_date: str | None = None
    log_url: str | None = None
    error: str | None = None
    question: str | None = None  # a Human-in-the-loop task waiting for an answer: not a failure
    max_tries: int | None = None
    #: When the event happened (the task's or run's end, the deadline), not when the callback runs.
    event_time: str | None = None

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Run:
        ti = context.get("ti")
        dag_run = context.get("dag_run")
        deadline = context.get("deadline")
        # A DAG callback's context carries "reason", even when it also holds the run's last task.
        scope: Literal["task", "dag", "deadline"] = (
            "deadline" if deadline is not None else "dag" if "reason" in context or ti is None else "task"
        )
        dag_id = _field(context.get("dag"), "dag_id") or _field(ti, "dag_id") or _field(dag_run, "dag_id")
        map_index = _field(ti, "map_index") if scope == "task" else None
        try:
            log_url = _text(_field(ti, "log_url"))
        except Exception:  # a partial task instance may fail to build its URL; the incident matters more
            log_url = None
        error = context.get("exception") or context.get("reason")
        if scope == "deadline":
            error = f"still running at its deadline, {_text(_field(deadline, 'deadline_time')) or 'unknown'}"
        moment = {"task": lambda: _field(ti, "end_date"), "dag": lambda: _field(dag_run, "end_date")}.get(
            scope, lambda: _field(deadline, "deadline_time")
        )()
        max_tries = _field(ti, "max_tries") if scope == "task" else None
        return cls(
            scope=scope,
            dag_id=str(dag_id or "unknown_dag"),
            task_id=_text(_field(ti, "task_id")) if scope == "task" else None,
            run_id=_text(context.get("run_id") or _field(dag_run, "run_id") or _field(dag_run, "dag_run_id")),
            try_number=_text(_field(ti, "try_number")) if scope == "task" else None,
            map_index=str(map_index) if isinstance(map_index, int) and map_index >= 0 else None,
            logical_date=_text(context.get("logical_date") or _field(dag_run, "logical_date")),
            log_url=log_url,
            error=_text(error),
            question=_question(context) if scope == "task" else None,
            max_tries=max_tries if isinstance(max_tries, int) and not isinstance(max_tries, bool) else None,
            event_time=_moment(moment),
        )

    @property
    def subject(self) -> str:
        """Name the task or DAG, as people read it."""
        return f"{self.dag_id}.{self.task_id}" if self.task_id else f"DAG {self.dag_id}"

    @property
    def attempt(self) -> str | None:
        """Name the try as Airflow's own emails do, ``try 2 of 4``, when the run knows it."""
        if self.try_number is None:
            return None
        total = f" of {self.max_tries + 1}" if self.max_tries is not None else ""
        return f"try {self.try_number}{total}"

    def facts(self) -> dict[str, str]:
        """Return the run's facts under the detail keys they are stored with."""
        names = ("dag_id", "task_id", "run_id", "try_number", "map_index", "logical_date", "log_url")
        facts = {name: getattr(self, name) for name in names}
        return {name: value for name, value in facts.items() if value is not None}

    def story(self, headline: str) -> str:
        """Return ``headline`` followed by the run's facts, one per line."""
        labels = [("Error", self.error), ("Run", self.run_id), ("Try", self.try_number)]
        labels += [("Map index", self.map_index), ("Logical date", self.logical_date), ("Log", self.log_url)]
        return "\n".join([headline, *(f"{label}: {value}" for label, value in labels if value)])
