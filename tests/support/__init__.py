"""Helpers that several test folders share: real databases, and code that runs in worker processes."""
