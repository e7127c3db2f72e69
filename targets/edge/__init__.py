"""The global edge's HAProxy config template (rendered by gameday.platforms.local.edge)."""
