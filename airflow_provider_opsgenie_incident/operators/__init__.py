"""Operators for every Opsgenie Incident and Incident Timeline action (import them from the submodules)."""

from __future__ import annotations
