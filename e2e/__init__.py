"""``make e2e``: the provider in a real multi-process Airflow deployment on loopback."""
