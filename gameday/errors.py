"""The one exception tree of gameday; the CLI maps it to exit codes.

    GamedayError                 anything the harness raises on purpose
    ├── ConfigError              bad user input: suite, experiment, CLI argument (exit 2)
    ├── PlatformError            a platform could not stand up, supervise or tear down
    ├── FaultError               a fault could not be injected, did not take effect, or
    │                            could not be rolled back
    ├── LoadError                the load generator could not run
    └── MeasurementError         recorded data is missing or inconsistent

Any GamedayError is a harness failure (exit 2); an SLO breach is not an exception at all,
it is a verdict (exit 1).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FaultError",
    "GamedayError",
    "LoadError",
    "MeasurementError",
    "PlatformError",
]


class GamedayError(Exception):
    """Base of every error gameday raises on purpose."""


class ConfigError(GamedayError):
    """Bad user input. The message names the file, the field and what was expected."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        where = ": ".join(part for part in (source, field) if part)
        super().__init__(f"{where}: {message}" if where else message)


class PlatformError(GamedayError):
    """A platform could not stand up, supervise or tear down its processes."""


class FaultError(GamedayError):
    """A fault could not be injected, did not take effect, or could not be rolled back."""


class LoadError(GamedayError):
    """The load generator could not run."""


class MeasurementError(GamedayError):
    """Recorded data is missing or inconsistent."""
