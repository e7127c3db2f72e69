"""Region outages: every process of a region killed (SIGKILL) or frozen (SIGSTOP)."""
