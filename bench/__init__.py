"""Benchmarks: `make bench` or `python -m bench.run` prints one table from one run."""
