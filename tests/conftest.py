"""Test set-up shared by every test: a private Airflow home with SQLite, and DAG-run helpers.

The environment is set before anything imports Airflow, so no test touches ``~/airflow``.
The emulator fixtures (``opsgenie_emulator``, ``opsgenie_incident_connection``) come from the
package's own pytest plugin, the one users get.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="opsgenie-incident-airflow-home-"))
DAGS_FOLDER = _HOME / "dags"
DAGS_FOLDER.mkdir()
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.pop("AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT", None)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture(autouse=True)
def _fresh_pacers() -> None:
    """Start every test with no pacer and no sighting: one test's 429s and incidents stay its own."""
    from airflow_provider_opsgenie_incident.client.pacer import reset_pacers
    from airflow_provider_opsgenie_incident.client.sightings import reset_sightings

    reset_pacers()
    reset_sightings()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Create the SQLite metadata database once per test session."""
    from airflow.utils import db

    db.initdb()
    return _HOME


class DagRunResult:
    """What a ``dag.test()`` run left behind: the run, task states and XComs."""

    def __init__(self, dag: Any, dag_run: Any) -> None:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        self.dag = dag
        self.dag_run = dag_run
        self.state = str(dag_run.state)
        self.task_states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
        with create_session() as session:
            rows = (
                session.query(XComModel)
                .filter(XComModel.dag_id == dag.dag_id, XComModel.run_id == dag_run.run_id)
                .all()
            )
            self.xcoms = {(row.task_id, row.key): row.value for row in rows}

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))


def _pass_the_error_to_callbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Give a failure callback under ``dag.test()`` the ``exception`` key a real task run gives it.

    Airflow 3.2's in-process runner behind ``dag.test()`` hands the error to ``finalize`` but not to
    the context (apache/airflow#64568, fixed in 3.3); its task runner process sets it, as 3.3 does.
    Where Airflow already sets the key this changes nothing.
    """
    from airflow.sdk.execution_time import task_runner

    finalize = task_runner.finalize

    def with_the_error(
        ti: Any, state: Any, context: Any, log: Any, error: BaseException | None = None
    ) -> None:
        context.setdefault("exception", error)
        finalize(ti, state, context, log, error)

    monkeypatch.setattr(task_runner, "finalize", with_the_error)


@pytest.fixture
def run_dag(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., DagRunResult]]:
    """
    Write DAG source into the dags folder, import it, and run it with ``dag.test()``.

    ``run_dag(source, dag_id=None, **test_kwargs)``: ``source`` is Python code defining one DAG;
    the file gets a unique name so tests never see each other's DAGs under the same id.
    """
    _pass_the_error_to_callbacks(monkeypatch)
    written: list[Path] = []

    def run(source: str, dag_id: str | None = None, **test_kwargs: Any) -> DagRunResult:
        module_name = f"test_dag_{uuid.uuid4().hex[:12]}"
        path = DAGS_FOLDER / f"{module_name}.py"
        path.write_text(textwrap.dedent(source))
        written.append(path)
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        from airflow.sdk import DAG

        dags = [value for value in vars(module).values() if isinstance(value, DAG)]
        dag = next(d for d in dags if dag_id is None or d.dag_id == dag_id)
        dag_run = dag.test(**test_kwargs)
        return DagRunResult(dag, dag_run)

    yield run
    for path in written:
        path.unlink(missing_ok=True)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


@pytest.fixture
def fill() -> Callable[[Any, dict[str, str]], Any]:
    """Return ``fill(value, ids)``: the value with ``{id}``-style placeholders filled in, at any depth."""
    return _fill
