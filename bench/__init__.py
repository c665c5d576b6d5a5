"""Benchmarks: python -m bench [--json PATH]."""
