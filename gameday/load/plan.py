"""What one load generator is told to do (``LoadPlan``) and when it sends (``schedule``).

Plain data and numpy only: the parent process builds and serialises plans without importing
Locust (which monkey-patches the interpreter with gevent).
"""

from __future__ import annotations

import ipaddress
import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from gameday.config import LoadProfile
from gameday.errors import LoadError
from gameday.load.payloads import BODY_POOL_MAX

__all__ = ["MAX_SENDS", "LoadPlan", "RateStep", "Share", "is_loopback_host", "join_url",
           "require_loopback", "schedule", "segments", "steps_detail"]

MAX_SENDS = 5_000_000

Arrival = Literal["constant", "poisson"]
MAX_WORKERS = 64


@dataclass(frozen=True, slots=True)
class RateStep:
    """From ``at_s`` seconds after the warm-up's end, send at ``rate_per_s`` (until the next
    step or the end of the plan)."""

    at_s: float
    rate_per_s: float


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """One open-model load generator: arrival process, target, bounds.

    ``start_at_s`` (UNIX epoch) is when the first send is due; ``None`` means "as soon as
    the generator is ready". ``steps`` change the rate during the run (a surge); ``workers``
    processes share the one schedule (``gameday.load.master``).
    """

    base_url: str
    stack: str = "tabular"
    endpoint: str = "predict"
    arrival: Arrival = "poisson"
    rate_per_s: float = 50.0
    duration_s: float = 40.0
    warmup_s: float = 3.0
    seed: int = 7
    timeout_s: float = 2.0
    concurrency: int = 300
    lag_bound_s: float = 0.010
    start_at_s: float | None = None
    # the rag stack (gameday.load.rag_workload): document ids of this run, the corpus the
    # questions come from, top k, and what a probe follows (the ingest load's rate)
    run_key: str = ""
    documents: int = 400
    k: int = 5
    follow_rate_per_s: float = 0.0
    follow_lag_s: float = 5.0
    steps: tuple[RateStep, ...] = ()
    workers: int = 1
    # the size of the body pool the sends cycle through (None: one body per send, up to the
    # pool's bound), so a suite can make answers repeat for the edge's cache
    distinct_bodies: int | None = None

    def __post_init__(self) -> None:
        require_loopback(self.base_url)
        if self.arrival not in ("constant", "poisson"):
            raise LoadError(f"plan.arrival: expected 'constant' or 'poisson', got {self.arrival!r}")
        for name in ("rate_per_s", "duration_s", "timeout_s", "lag_bound_s"):
            _require(name, getattr(self, name), lambda v: v > 0, "> 0")
        _require("warmup_s", self.warmup_s, lambda v: v >= 0, ">= 0")
        _require("concurrency", self.concurrency, lambda v: v >= 1, ">= 1")
        _require("workers", self.workers, lambda v: 1 <= v <= MAX_WORKERS, f"1..{MAX_WORKERS}")
        if self.distinct_bodies is not None:
            _require("distinct_bodies", self.distinct_bodies,
                     lambda v: 1 <= v <= BODY_POOL_MAX, f"1..{BODY_POOL_MAX}")
        _check_steps(self.steps, self.duration_s)
        if self.expected_sends > MAX_SENDS:
            raise LoadError(f"plan asks for ~{self.expected_sends:,.0f} sends "
                            f"(rate x time over warmup_s + duration_s, steps included); the "
                            f"bound is {MAX_SENDS:,}")

    @property
    def total_s(self) -> float:
        return self.warmup_s + self.duration_s

    @property
    def expected_sends(self) -> float:
        return sum(rate * (end_s - start_s) for start_s, end_s, rate in segments(self))

    @classmethod
    def from_profile(cls, profile: LoadProfile, base_url: str,
                     start_at_s: float | None = None, *, run_key: str = "",
                     documents: int = 400, k: int = 5,
                     follow_rate_per_s: float = 0.0) -> LoadPlan:
        """The plan for a suite's load profile, aimed at ``base_url`` (the edge); the rag
        stack's loads also take the run's key, its corpus size and top k, and a probe the
        rate of the ingest load it follows."""
        if profile.model != "open":
            raise LoadError(f"load.model {profile.model!r}: only the open model has a plan")
        return cls(base_url=base_url, stack=profile.stack, endpoint=profile.endpoint,
                   arrival=profile.arrival, rate_per_s=profile.rate_per_s,
                   duration_s=profile.duration_s, warmup_s=profile.warmup_s, seed=profile.seed,
                   timeout_s=profile.timeout_s, concurrency=profile.concurrency,
                   lag_bound_s=profile.lag_bound_s, start_at_s=start_at_s, run_key=run_key,
                   documents=documents, k=k, follow_rate_per_s=follow_rate_per_s,
                   follow_lag_s=profile.follow_lag_s, workers=profile.workers,
                   distinct_bodies=profile.distinct_bodies,
                   steps=tuple(RateStep(step.at_s, step.rate_for(profile.rate_per_s))
                               for step in profile.steps))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, raw: object, *, source: str = "plan") -> LoadPlan:
        """Build a plan from decoded JSON; unknown or missing keys are errors, not defaults."""
        if not isinstance(raw, dict):
            raise LoadError(f"{source}: expected a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise LoadError(f"{source}: unknown key(s) {unknown} (check the spelling)")
        missing = sorted(name for name in known if name not in raw)
        if missing:
            raise LoadError(f"{source}: missing key(s) {missing}")
        values = {name: _coerce(source, name, raw[name]) for name in known}
        return cls(**values)

    @classmethod
    def from_json(cls, text: str, *, source: str = "plan") -> LoadPlan:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{source}: not valid JSON: {exc}") from None
        return cls.from_dict(raw, source=source)


_INT_FIELDS = frozenset({"seed", "concurrency", "documents", "k", "workers",
                         "distinct_bodies"})
_FLOAT_FIELDS = frozenset({"rate_per_s", "duration_s", "warmup_s", "timeout_s", "lag_bound_s",
                           "start_at_s", "follow_rate_per_s", "follow_lag_s", "steps.at_s",
                           "steps.rate_per_s"})
_STR_FIELDS = frozenset({"base_url", "stack", "endpoint", "arrival", "run_key"})


def _coerce(source: str, name: str, value: object) -> Any:
    if name in ("start_at_s", "distinct_bodies") and value is None:
        return None
    if name == "steps":
        return _coerce_steps(source, value)
    if name in _STR_FIELDS and isinstance(value, str):
        return value
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if name in _INT_FIELDS and number is not None and float(number) == int(number):
        return int(number)
    if name in _FLOAT_FIELDS and number is not None and math.isfinite(number):
        return float(number)
    kind = "a string" if name in _STR_FIELDS else "an integer" if name in _INT_FIELDS \
        else "a finite number"
    raise LoadError(f"{source}: field {name!r}: expected {kind}, got {value!r}")


def _coerce_steps(source: str, value: object) -> tuple[RateStep, ...]:
    expected = "a list of {\"at_s\": number, \"rate_per_s\": number}"
    if not isinstance(value, list | tuple):
        raise LoadError(f"{source}: field 'steps': expected {expected}, got {value!r}")
    steps = []
    for raw in value:
        if not isinstance(raw, dict) or set(raw) != {"at_s", "rate_per_s"}:
            raise LoadError(f"{source}: field 'steps': expected {expected}, got {raw!r}")
        steps.append(RateStep(*(_coerce(source, f"steps.{key}", raw[key])
                                for key in ("at_s", "rate_per_s"))))
    return tuple(steps)


def _check_steps(steps: tuple[RateStep, ...], duration_s: float) -> None:
    previous_s = -1.0
    for index, step in enumerate(steps):
        if not 0 <= step.at_s < duration_s or step.at_s <= previous_s:
            raise LoadError(f"plan.steps[{index}].at_s: expected >= 0, after the previous "
                            f"step's and before duration_s ({duration_s:g}), got {step.at_s!r}")
        if not step.rate_per_s > 0:
            raise LoadError(f"plan.steps[{index}].rate_per_s: expected > 0, "
                            f"got {step.rate_per_s!r}")
        previous_s = step.at_s


def _require(name: str, value: float, ok: Any, expected: str) -> None:
    if not ok(value):
        raise LoadError(f"plan.{name}: expected {expected}, got {value!r}")


def is_loopback_host(host: str) -> bool:
    """``localhost`` or an address in 127.0.0.0/8 or ::1 (a name other than localhost is not:
    it could resolve anywhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_loopback(base_url: str) -> None:
    """Refuse any target that is not on this host: every socket the harness opens is loopback."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadError(f"base_url {base_url!r}: "
                        "expected http(s)://<loopback host>[:port][/prefix]")
    host = parts.hostname
    if not is_loopback_host(host):
        raise LoadError(f"base_url {base_url!r}: host {host!r} is not loopback (127.0.0.0/8, "
                        "::1 or localhost); the load generator only targets this host")


def join_url(base_url: str, path: str) -> str:
    """``base_url`` may carry a prefix the edge routes by: ``.../tabular`` + ``/predict``."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def segments(plan: LoadPlan) -> list[tuple[float, float, float]]:
    """The plan's rate as ``(start_s, end_s, rate_per_s)`` pieces, offsets from t0: the base
    rate from 0, then each step from ``warmup_s + at_s``, the last piece to ``total_s``."""
    starts = [0.0, *(plan.warmup_s + step.at_s for step in plan.steps)]
    rates = [plan.rate_per_s, *(step.rate_per_s for step in plan.steps)]
    ends = [*starts[1:], plan.total_s]
    return list(zip(starts, ends, rates, strict=True))


def steps_detail(plan: LoadPlan, t0_s: float, workers: int = 1) -> list[dict[str, float]]:
    """The steps as the ``load_start`` event tells them: when each was due (UNIX epoch) and
    its rate (one worker's share of it, when ``workers`` share the schedule)."""
    return [{"at_s": t0_s + plan.warmup_s + step.at_s, "rate_per_s": step.rate_per_s / workers}
            for step in plan.steps]


def schedule(plan: LoadPlan, t0_s: float = 0.0) -> npt.NDArray[np.float64]:
    """Scheduled send times: ``t0_s`` + offsets in [0, warmup_s + duration_s), seeded.

    Constant arrival: exact spacing ``1 / rate`` from the start of each piece of the rate
    (``segments``; one piece without steps). Poisson: exponential gaps with mean ``1 / rate``,
    the first send at 0 (so t0 is a send); after a step the gaps come at the step's rate from
    the same seeded stream (a Poisson process is memoryless, so a piece may start anywhere).
    """
    if plan.arrival == "constant":
        pieces = [start_s + np.arange(_constant_count(end_s - start_s, rate),
                                      dtype=np.float64) / rate
                  for start_s, end_s, rate in segments(plan)]
    else:
        rng = np.random.default_rng(plan.seed)
        pieces = [_poisson_offsets(rng, rate, start_s, end_s, first=index == 0)
                  for index, (start_s, end_s, rate) in enumerate(segments(plan))]
    offsets = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    if offsets.size > MAX_SENDS:
        raise LoadError(f"schedule has {offsets.size:,} sends; the bound is {MAX_SENDS:,}")
    return offsets + t0_s


def _constant_count(length_s: float, rate_per_s: float) -> int:
    return math.ceil(length_s * rate_per_s - 1e-9)


def _poisson_offsets(rng: np.random.Generator, rate_per_s: float, start_s: float,
                     end_s: float, *, first: bool) -> npt.NDArray[np.float64]:
    """Arrivals in [start_s, end_s); ``first``: the plan's first piece, which sends at 0."""
    expected = rate_per_s * (end_s - start_s)
    chunk = int(expected + 6 * math.sqrt(expected) + 16)
    gaps = rng.exponential(1.0 / rate_per_s, size=chunk)
    offsets = np.concatenate(([0.0], np.cumsum(gaps))) if first else start_s + np.cumsum(gaps)
    while offsets[-1] < end_s:  # rare: draw more from the same stream, still reproducible
        more = offsets[-1] + np.cumsum(rng.exponential(1.0 / rate_per_s, size=chunk))
        offsets = np.concatenate((offsets, more))
    return offsets[offsets < end_s]


@dataclass(frozen=True, slots=True)
class Share:
    """The sends of one schedule that one generator process makes: indices ``first``,
    ``first + stride``, ... of the whole schedule (``total`` sends), at ``offsets_s`` from t0.

    A single process sends the whole schedule (``worker`` None); worker i of n sends indices
    i, i + n, i + 2n, ..., so the workers' union is exactly the one-process schedule.
    """

    worker: int | None
    first: int
    stride: int
    total: int
    offsets_s: npt.NDArray[np.float64]

    @classmethod
    def whole(cls, plan: LoadPlan) -> Share:
        offsets_s = schedule(plan)
        return cls(None, 0, 1, int(offsets_s.size), offsets_s)

    @classmethod
    def of_worker(cls, offsets_s: npt.NDArray[np.float64], worker: int, workers: int) -> Share:
        """Worker ``worker``'s share of the whole schedule ``offsets_s`` among ``workers``."""
        return cls(worker, worker, workers, int(offsets_s.size),
                   np.ascontiguousarray(offsets_s[worker::workers]))

    @property
    def size(self) -> int:
        return int(self.offsets_s.size)

    def rate_per_s(self, plan: LoadPlan) -> float:
        """This share's part of the plan's base rate."""
        return plan.rate_per_s / self.stride
