"""Serving faults through a model repository API (KServe v2: Triton)."""
