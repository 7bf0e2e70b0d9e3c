"""Hooks of the Opsgenie Incident provider."""
