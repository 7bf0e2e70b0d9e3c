"""Benchmarks of the provider: run them with ``make bench`` (see README.md)."""
