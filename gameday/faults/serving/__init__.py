"""Serving probes: does a region answer real inference, does the edge serve within the SLO."""
