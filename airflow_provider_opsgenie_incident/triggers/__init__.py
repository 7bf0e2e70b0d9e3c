"""Triggers that wait for Opsgenie in the triggerer, on the asynchronous client."""

from __future__ import annotations
