"""Benchmarks, run on demand (not tests): see bench/scale.py."""
