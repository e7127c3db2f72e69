"""Triton probes: does a region's server queue too long, does its dynamic batcher batch."""
