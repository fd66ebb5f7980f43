"""Integration tests of the audit room against real SQLite and PostgreSQL databases."""
