"""Chaos Toolkit providers: ``<area>/actions.py`` inject faults, ``<area>/probes.py`` observe.

Every provider takes the experiment's ``configuration`` (optional keys ``gameday_platform`` and
``gameday_home``) and finds its targets through the platform, never by process-name patterns.
Every action checks that its fault took effect and returns what it did, for the journal.
"""
