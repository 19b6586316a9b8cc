"""Benchmarks (`make bench`): each section prints ratios against a baseline in the same run."""
