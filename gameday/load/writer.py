"""What the RPO writer is told to do (``WritePlan``): numbered writes (RAG document ingests)
straight to a stack's database at open-model times, the ledger the RPO audit is checked against.

Plain data: the parent builds and serialises plans; the writer itself runs in a child,
``python -m gameday.load.writer --plan P --run-dir D --name writes`` (``writer_main``).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.conninfo import conninfo_to_dict

from gameday.config import LoadProfile
from gameday.dbwatch import describe
from gameday.errors import LoadError
from gameday.load.plan import LoadPlan, schedule
from gameday.platforms.base import DatabaseInfo

__all__ = ["WritePlan"]

_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class WritePlan:
    """One writer: arrival process, database, bounds. ``regions`` maps ``"host:port"`` of
    each node to its region (who acknowledged a write). ``start_at_s`` as in ``LoadPlan``."""

    dsn: str
    regions: Mapping[str, str] = field(default_factory=dict)
    stack: str = "rag"
    arrival: Literal["constant", "poisson"] = "poisson"
    rate_per_s: float = 50.0
    duration_s: float = 40.0
    warmup_s: float = 3.0
    seed: int = 7
    timeout_s: float = 2.0
    connections: int = 8
    lag_bound_s: float = 0.010
    start_at_s: float | None = None
    table: str = "gameday_writes"

    def __post_init__(self) -> None:
        _require_loopback_dsn(self.dsn)
        if not _TABLE.fullmatch(self.table):
            raise LoadError(f"plan.table: expected a lower-case SQL name, got {self.table!r}")
        if not 1 <= self.connections <= 64:
            raise LoadError(f"plan.connections: expected 1..64, got {self.connections!r}")
        bad = [key for key, region in self.regions.items()
               if not (isinstance(key, str) and ":" in key and isinstance(region, str))]
        if bad:
            raise LoadError(f"plan.regions: expected \"host:port\": \"region\", got {bad}")
        self.load_plan()  # arrival, rates, durations and the send bound, checked as for HTTP

    @property
    def total_s(self) -> float:
        return self.warmup_s + self.duration_s

    def load_plan(self) -> LoadPlan:
        """The HTTP plan with the same arrivals: ``schedule`` is shared, not copied."""
        return LoadPlan(base_url="http://127.0.0.1", stack=self.stack, arrival=self.arrival,
                        rate_per_s=self.rate_per_s, duration_s=self.duration_s,
                        warmup_s=self.warmup_s, seed=self.seed, timeout_s=self.timeout_s,
                        lag_bound_s=self.lag_bound_s)

    def schedule(self, t0_s: float = 0.0) -> npt.NDArray[np.float64]:
        return schedule(self.load_plan(), t0_s)

    @classmethod
    def from_profile(cls, profile: LoadProfile, info: DatabaseInfo,
                     start_at_s: float | None = None, *,
                     table: str = "gameday_writes") -> WritePlan:
        """The writer for a suite's ``target: database`` profile, aimed at ``info``'s nodes.
        The writer refuses a ``table`` that already holds writes: one per run, or dropped."""
        if profile.target != "database":
            raise LoadError(f"load.target {profile.target!r}: only a database target writes")
        connect_timeout_s = max(2, math.ceil(profile.timeout_s))  # libpq's floor is 2 s
        return cls(dsn=info.dsn(connect_timeout_s=connect_timeout_s,
                                application_name="gameday-writer"),
                   regions={f"{n.host}:{n.port}": n.region for n in info.nodes},
                   stack=info.stack, arrival=profile.arrival, rate_per_s=profile.rate_per_s,
                   duration_s=profile.duration_s, warmup_s=profile.warmup_s, seed=profile.seed,
                   timeout_s=profile.timeout_s, connections=profile.connections,
                   lag_bound_s=profile.lag_bound_s, start_at_s=start_at_s, table=table)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "regions": dict(self.regions)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str, *, source: str = "plan") -> WritePlan:
        """Unknown or missing keys are errors, not defaults; so is a value of the wrong type."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{source}: not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise LoadError(f"{source}: expected a JSON object")
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(raw) - known):
            raise LoadError(f"{source}: unknown key(s) {unknown} (check the spelling)")
        if missing := sorted(known - set(raw)):
            raise LoadError(f"{source}: missing key(s) {missing}")
        for name, kinds in _TYPES.items():
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise LoadError(f"{source}: field {name!r}: expected {kinds}, got {value!r}")
        if not isinstance(raw["regions"], dict):
            raise LoadError(f"{source}: field 'regions': expected an object")
        values: dict[str, Any] = {
            name: float(value) if name in _FLOATS and value is not None else value
            for name, value in raw.items()}
        if not all(math.isfinite(values[name]) for name in _FLOATS if values[name] is not None):
            raise LoadError(f"{source}: {sorted(_FLOATS)} must be finite numbers")
        try:
            return cls(**values)
        except LoadError as exc:
            raise LoadError(f"{source}: {exc}") from None


_TYPES: dict[str, Any] = {
    "dsn": str, "stack": str, "arrival": str, "table": str, "seed": int, "connections": int,
    "rate_per_s": (int, float), "duration_s": (int, float), "warmup_s": (int, float),
    "timeout_s": (int, float), "lag_bound_s": (int, float),
    "start_at_s": (int, float, type(None)),
}
_FLOATS = frozenset(name for name, kinds in _TYPES.items() if isinstance(kinds, tuple))


def _require_loopback_dsn(dsn: str) -> None:
    """Every host the writer could reach is on this host (as ``require_loopback`` for URLs)."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise LoadError(f"plan.dsn: not a libpq connection string: {describe(exc)}") from None
    hosts = [h.strip() for key in ("host", "hostaddr")
             for h in str(params.get(key) or "").split(",") if h.strip()]
    if not hosts:
        raise LoadError("plan.dsn: names no host; expected host=<loopback address>[,...]")
    for host in hosts:
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise LoadError(f"plan.dsn: host {host!r} is not loopback (127.0.0.0/8, ::1 or "
                            "localhost); the writer only targets this host")


if __name__ == "__main__":  # python -m gameday.load.writer: the child (this module is data)
    from gameday.load.writer_main import main

    sys.exit(main())
