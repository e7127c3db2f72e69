"""Input drift: a shifted client population sent to a region's model servers (actions); does
each server's own drift monitor see it (probes)."""
