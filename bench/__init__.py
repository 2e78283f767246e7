"""Benchmarks of imdemo (issue 6): run `python bench/run.py`."""
