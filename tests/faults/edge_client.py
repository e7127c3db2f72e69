"""What a user of the global edge sees: which region answered, and how."""

from __future__ import annotations

import collections
import time

import httpx

from gameday.platforms.local.platform import LocalPlatform

SAMPLE = {"amount": 42.0, "hour": 13, "merchant_risk": 0.2, "distance_km": 3.0,
          "card_age_days": 400, "foreign": False, "tx_last_24h": 2}


def served_by(platform: LocalPlatform, requests: int = 20) -> collections.Counter[str]:
    """Region (or the failure) of each of ``requests`` predictions sent through the edge."""
    seen: collections.Counter[str] = collections.Counter()
    url = platform.edge_url("tabular") + "/predict"
    with httpx.Client(timeout=3) as client:
        for _ in range(requests):
            try:
                answer = client.post(url, json=SAMPLE)
                seen[answer.headers.get("x-served-by-region", f"status {answer.status_code}")
                     if answer.status_code == 200 else f"status {answer.status_code}"] += 1
            except httpx.HTTPError as exc:
                seen[type(exc).__name__] += 1
    return seen


def until_served_only_by(platform: LocalPlatform, region: str, timeout_s: float = 10) -> float:
    """Seconds until 10 predictions in a row all come from ``region`` (raises on timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if served_by(platform, 10) == {region: 10}:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"edge not served only by {region} within {timeout_s} s: "
                         f"{served_by(platform, 10)}")
