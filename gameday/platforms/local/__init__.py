"""The local platform: real processes on per-region loopback address blocks."""
