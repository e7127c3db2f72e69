"""Synthetic request records and events for the measurement tests (plain data, no processes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from gameday.records import Event, RequestRecord

MakeRequest = Callable[..., RequestRecord]


def request(scheduled_s: float, *, ok: bool = True, latency_s: float = 0.010,
            region: str | None = None, lag_s: float = 0.0) -> RequestRecord:
    """One request, served by region-a; a failed one has no region unless told (refused)."""
    if region is None:
        region = "region-a" if ok else ""
    return RequestRecord(
        scheduled_s=scheduled_s, start_s=scheduled_s + lag_s, end_s=scheduled_s + latency_s,
        stack="tabular", endpoint="predict", region=region,
        status=200 if ok else 503, ok=ok, error_kind="" if ok else "http_5xx",
    )


def steady(start_s: float, end_s: float, spacing_s: float = 0.1, **kwargs: object
           ) -> list[RequestRecord]:
    """Requests every ``spacing_s`` from ``start_s`` (included) to ``end_s`` (excluded)."""
    count = round((end_s - start_s) / spacing_s)
    return [request(round(start_s + i * spacing_s, 9), **kwargs)  # type: ignore[arg-type]
            for i in range(count)]


def event(t_s: float, kind: str, scenario: str = "", **detail: object) -> Event:
    return Event(t_s=t_s, kind=kind, scenario=scenario, detail=dict(detail))


@pytest.fixture
def make_request() -> MakeRequest:
    return request


@pytest.fixture
def make_steady() -> Callable[..., list[RequestRecord]]:
    return steady


@pytest.fixture
def make_event() -> Callable[..., Event]:
    return event


def concat(*parts: Iterable[RequestRecord]) -> list[RequestRecord]:
    return sorted((r for part in parts for r in part), key=lambda r: r.scheduled_s)


@pytest.fixture
def join() -> Callable[..., list[RequestRecord]]:
    return concat
