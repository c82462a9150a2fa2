"""Benchmarks, run by hand (`make bench`), never in CI: results go in the issue notes."""
