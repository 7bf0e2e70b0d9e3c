"""Notifiers of the Opsgenie Incident provider (import them from the submodules)."""

from __future__ import annotations
