"""Benchmarks: each prints ratios of two things measured side by side in one run."""
