"""Benchmarks of allocopt (``python -m benchmarks``); not part of the unit tests."""
