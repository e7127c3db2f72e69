"""gameday: a chaos and resilience test harness for multi-region AI serving.

The run folder (``gameday.records``) is the one contract between load generation,
measurement and reports; platforms (``gameday.platforms``) stand the stacks up; faults
(``gameday.faults``) are Chaos Toolkit providers that find their targets through the platform.
"""

__version__ = "0.1.0"
