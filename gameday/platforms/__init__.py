"""Platforms: where the stacks run (local processes, kind clusters), behind one interface."""
