"""Headquarters mode: receives each center's daily throughput and shows all centers side by side.

Run with ``dostq hq serve``; the same code base as a center, its own database and pages.
"""
