"""Sensors that wait for an Opsgenie request to be processed or for an incident to reach a status."""

from __future__ import annotations
