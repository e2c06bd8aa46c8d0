"""Benchmarks against the budgets in DESIGN.md. Run `python -m bench`."""
