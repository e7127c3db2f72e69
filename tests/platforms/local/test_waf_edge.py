"""The global edge as a client meets it, on a real local platform: nginx + ModSecurity with
the OWASP CRS in front of HAProxy, its cache, geo affinity and the per-client rate limit.

One stand-up for the module (tabular, one replica per region, cacheable answers for 2 s, geo
affinity, 100 requests/s per client); the tests that take regions down run last and undo it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import platform_up
from gameday.edge_options import EdgeOptions, FailoverOptions
from gameday.load.payloads import endpoint_for, make_bodies
from gameday.platforms.local.platform import LocalPlatform
from tests.faults.edge_client import SAMPLE

_RATE_LIMIT = 100
_MAX_AGE_S = 2
_CLOCK_TICK_S = 1  # nginx keeps a cached answer's expiry in whole seconds
# a few of each class a WAF must stop, in the places an API takes input
ATTACKS = {
    "sqli": [("GET", "/predict?id=1'%20OR%20'1'='1", None),
             ("POST", "/predict", {"amount": "1 UNION SELECT password FROM users--"}),
             ("POST", "/predict", {"note": "x'; DROP TABLE transactions; --"})],
    "xss": [("GET", "/predict?q=%3Cscript%3Ealert(1)%3C/script%3E", None),
            ("POST", "/predict", {"merchant": "<img src=x onerror=alert(document.cookie)>"})],
    "traversal": [("GET", "/predict?file=../../../../etc/passwd", None),
                  ("GET", "/predict?file=..%2f..%2f..%2fetc%2fshadow", None)],
}


@pytest.fixture(scope="module")
def edge_platform(trained_artifacts: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    edge = EdgeOptions(failover=FailoverOptions(policy="geo"),
                       rate_limit_per_s_per_client=_RATE_LIMIT)
    with platform_up(tmp_path_factory.mktemp("waf-home"), edge=edge, replicas=1,
                     settings={"tabular": {"answer_max_age_s": _MAX_AGE_S}}) as platform:
        yield platform


def _logged(platform: LocalPlatform, since_s: float, label: str,
            expected: int) -> list[dict[str, object]]:
    """The WAF log's entries of ``label``; nginx writes an entry after it answered, so the
    last one may come a moment after its answer."""
    deadline = time.monotonic() + 3
    while True:
        logged = [e for e in platform.waf_entries(since_s) if e["label"] == label]
        if len(logged) >= expected or time.monotonic() > deadline:
            return logged
        time.sleep(0.05)


def _send(client: httpx.Client, url: str, method: str, body: object) -> httpx.Response:
    if body is None:
        return client.request(method, url)
    return client.request(method, url, json=body)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_class_is_blocked_by_the_waf_and_logged(edge_platform: LocalPlatform,
                                                            attack: str) -> None:
    base = edge_platform.edge_url("tabular")
    since_s = time.time()
    with httpx.Client(timeout=5, headers={"X-Gameday-Label": attack}) as client:
        answers = [_send(client, base + path, method, body)
                   for method, path, body in ATTACKS[attack]]
    assert [(a.status_code, a.headers["x-edge-waf"]) for a in answers] \
        == [(403, "blocked")] * len(answers)
    logged = _logged(edge_platform, since_s, attack, len(answers))
    assert len(logged) == len(answers)
    assert all(e["blocked"] and 949110 in e["rules"] and e["score"] >= 5 for e in logged)


def test_the_stacks_own_payloads_pass_the_waf(edge_platform: LocalPlatform) -> None:
    """No false positive on what the load profiles send (fraud and legit transactions)."""
    url = edge_platform.edge_url("tabular") + "/predict"
    bodies = make_bodies(endpoint_for("tabular", "predict"), 200, seed=11)
    since_s = time.time()
    with httpx.Client(timeout=5, headers={"Content-Type": "application/json",
                                          "X-Gameday-Label": "benign"}) as client:
        statuses = {client.post(url, content=body).status_code for body in bodies[:200:4]}
    assert statuses == {200}
    assert [e for e in edge_platform.waf_entries(since_s) if e["label"] == "benign"] == []


def test_without_the_waf_the_same_attack_reaches_the_service(
        edge_platform: LocalPlatform) -> None:
    url = edge_platform.edge_url("tabular", entry="edge-no-waf")
    answer = httpx.get(url + "/predict?id=1'%20OR%20'1'='1", timeout=5)
    assert answer.headers["x-edge-waf"] == "off"
    assert answer.status_code == 405  # the service's own answer: /predict takes POST


def test_control_endpoints_are_refused_at_the_edge(edge_platform: LocalPlatform) -> None:
    answer = httpx.post(edge_platform.edge_url("tabular") + "/admin/model",
                        json={"uri": "models:/fraud@champion"}, timeout=5)
    assert (answer.status_code, answer.headers["x-edge-waf"]) == (403, "refused")


def test_cache_hit_after_miss_and_expiry_after_its_max_age(edge_platform: LocalPlatform) -> None:
    url = edge_platform.edge_url("tabular") + "/predict"
    body = SAMPLE | {"amount": float(np.random.default_rng().uniform(1, 1000))}
    with httpx.Client(timeout=5) as client:
        first, second = client.post(url, json=body), client.post(url, json=body)
        time.sleep(_MAX_AGE_S + _CLOCK_TICK_S + 0.5)
        third = client.post(url, json=body)
        other = client.post(url, json=body | {"hour": 3})
    assert [(a.headers["x-cache-status"], a.headers["x-served-by-region"])
            for a in (first, second, third, other)] \
        == [("MISS", "region-a"), ("HIT", "edge"), ("EXPIRED", "region-a"),
            ("MISS", "region-a")]
    assert second.json() == first.json()


def _region_of(client: httpx.Client, url: str, client_region: str | None) -> str:
    headers = {"X-Client-Region": client_region} if client_region else {}
    answer = client.post(url, json=SAMPLE | {"amount": float(time.time() % 1000)},
                         headers=headers)
    return answer.headers.get("x-served-by-region", f"status {answer.status_code}")


def test_geo_affinity_serves_each_client_region_from_its_own_region(
        edge_platform: LocalPlatform) -> None:
    url = edge_platform.edge_url("tabular") + "/predict"
    with httpx.Client(timeout=5) as client:
        seen = {region: {_region_of(client, url, region) for _ in range(5)}
                for region in ("region-a", "region-b", None)}
    assert seen == {"region-a": {"region-a"}, "region-b": {"region-b"}, None: {"region-a"}}


def _burst(address: str, url: str, count: int) -> list[int]:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, timeout=5) as client:
        return [client.get(url).status_code for _ in range(count)]


def test_a_client_over_its_rate_limit_gets_429_and_another_client_does_not(
        edge_platform: LocalPlatform) -> None:
    """The limit keys on the client nginx saw (X-Forwarded-For), not on nginx's address."""
    url = edge_platform.edge_url("tabular") + "/health"
    time.sleep(1.1)  # the per-second rate of the tests before has passed
    noisy = _burst("127.0.0.2", url, 3 * _RATE_LIMIT)
    quiet = _burst("127.0.0.3", url, 5)
    assert noisy.count(429) >= _RATE_LIMIT
    assert noisy[:_RATE_LIMIT // 2] == [200] * (_RATE_LIMIT // 2)
    assert quiet == [200] * 5


def test_geo_fails_over_to_the_other_region_and_the_cache_answers_stale_when_both_are_down(
        edge_platform: LocalPlatform) -> None:
    url = edge_platform.edge_url("tabular") + "/predict"
    cached = SAMPLE | {"amount": 777.0}
    with httpx.Client(timeout=5) as client:
        assert client.post(url, json=cached).headers["x-cache-status"] in {"MISS", "EXPIRED"}
        edge_platform.stop_region("region-b", freeze=False)
        try:
            deadline = time.monotonic() + 10
            while _region_of(client, url, "region-b") != "region-a":
                assert time.monotonic() < deadline, "region-b's clients never moved to region-a"
                time.sleep(0.1)
            edge_platform.stop_region("region-a", freeze=False)
            time.sleep(_MAX_AGE_S + _CLOCK_TICK_S + 0.5)  # past its max-age: stale
            stale = client.post(url, json=cached)
            uncached = client.post(url, json=cached | {"hour": 4})
        finally:
            edge_platform.restore_region("region-a")
            edge_platform.restore_region("region-b")
    assert (stale.status_code, stale.headers["x-cache-status"],
            stale.headers["x-served-by-region"]) == (200, "STALE", "edge")
    assert uncached.status_code == 503 and uncached.headers["x-cache-status"] == "MISS"
