"""Integration tests of the store room against real SQLite and PostgreSQL databases."""
