"""Connection arguments the deployment's Airflow processes give SQLite.

Five processes share one SQLite file; on a loaded machine a writer can hold the lock for longer
than sqlite3's default 5 s busy timeout, and a scheduler, triggerer or dag-processor that meets
``database is locked`` exits. A longer busy timeout makes them wait for the lock instead.
"""

from __future__ import annotations

CONNECT_ARGS = {"timeout": 60}
