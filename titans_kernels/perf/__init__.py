"""Benchmark results: machine fingerprints, per-machine baselines, the regression gate, and the
Markdown/PNG report (the suites themselves live in benchmarks/)."""
