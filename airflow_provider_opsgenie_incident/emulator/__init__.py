"""An in-process fake Opsgenie (Incident API and Incident Timeline API), standard library only.

Use it like ``moto`` for AWS: start an :class:`OpsgenieEmulator`, point a client at its ``url`` with
its ``api_key``, inject :class:`Fault` rules, and inspect the incidents it holds. Run
``python -m airflow_provider_opsgenie_incident.emulator`` for a standalone server, or use the pytest
fixtures of :mod:`airflow_provider_opsgenie_incident.emulator.pytest_plugin`.
"""

from __future__ import annotations

from airflow_provider_opsgenie_incident.emulator.faults import Fault
from airflow_provider_opsgenie_incident.emulator.recording import RecordedRequest
from airflow_provider_opsgenie_incident.emulator.server import OpsgenieEmulator

__all__ = ["Fault", "OpsgenieEmulator", "RecordedRequest"]
