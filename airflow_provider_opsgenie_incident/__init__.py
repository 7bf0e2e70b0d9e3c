"""Apache Airflow provider for the Opsgenie Incident and Incident Timeline APIs."""

from __future__ import annotations

__version__ = "0.1.0"
