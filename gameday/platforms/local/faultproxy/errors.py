"""The fault proxy's API error: a message and the HTTP status Toxiproxy gives for it."""

from __future__ import annotations

from gameday.errors import FaultError

__all__ = ["ApiError"]


class ApiError(FaultError):
    """A refused API request; rendered as Toxiproxy's ``{"error": ..., "status": ...}``."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}
