"""An in-process fake Opsgenie (Incident API and Incident Timeline API), standard library only.

Use it like ``moto`` for AWS: start an :class:`OpsgenieEmulator`, point a client at its ``url`` with
its ``api_key``, inject :class:`Fault` rules (among them writes applied before a 5xx, a lost or a
late answer), let search trail the writes (``search_lag``), and inspect the incidents it holds,
the requests it received (:class:`RecordedRequest`) and the pages it sent (:class:`Page`). A
:class:`ManualClock` drives its rate limit and search lag without sleeping. Run
``python -m airflow_provider_opsgenie_incident.emulator`` for a standalone server, or use the pytest
fixtures of :mod:`airflow_provider_opsgenie_incident.emulator.pytest_plugin`.
"""

from __future__ import annotations

from airflow_provider_opsgenie_incident.emulator.clock import ManualClock
from airflow_provider_opsgenie_incident.emulator.faults import Fault
from airflow_provider_opsgenie_incident.emulator.recording import Page, RecordedRequest
from airflow_provider_opsgenie_incident.emulator.server import OpsgenieEmulator

__all__ = ["Fault", "ManualClock", "OpsgenieEmulator", "Page", "RecordedRequest"]
