"""Triton faults and probes: a burst that saturates a region's server queues, GPU memory taken
from a side process (actions); does a server queue too long, does its batcher batch (probes)."""
