"""The embedded store: one SQLite file (WAL) under the data home, one module per table group."""
