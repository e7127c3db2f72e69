"""The HTTP API answers as Toxiproxy's does: shapes, defaults, status codes, JSON errors."""

from __future__ import annotations

import pytest
import requests
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from gameday.platforms.local.faultproxy import API_VERSION, ServerThread

TIMEOUT_S = 5


def _post(base: str, path: str, body: object) -> requests.Response:
    return requests.post(f"{base}{path}", json=body, timeout=TIMEOUT_S)


def _assert_error(reply: requests.Response, status: int) -> str:
    assert reply.status_code == status
    body = reply.json()
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


def test_version_names_the_toxiproxy_api_it_speaks(toxiproxy: Toxiproxy) -> None:
    assert toxiproxy.running()
    assert API_VERSION.encode() in toxiproxy.version()


def test_created_proxy_has_toxiproxys_json_shape(faultproxy: ServerThread,
                                                echo_upstream: str) -> None:
    reply = _post(faultproxy.url, "/proxies", {"name": "db", "upstream": echo_upstream,
                                               "listen": "127.0.0.1:0"})
    assert reply.status_code == 201
    proxy = reply.json()
    assert proxy["name"] == "db" and proxy["upstream"] == echo_upstream
    assert proxy["enabled"] is True and proxy["toxics"] == []
    assert proxy["listen"].startswith("127.0.0.1:") and not proxy["listen"].endswith(":0")
    index = requests.get(f"{faultproxy.url}/proxies", timeout=TIMEOUT_S).json()
    assert index == {"db": proxy}


def test_creating_a_duplicate_proxy_is_a_conflict(faultproxy: ServerThread,
                                                  echo_upstream: str) -> None:
    body = {"name": "db", "upstream": echo_upstream}
    assert _post(faultproxy.url, "/proxies", body).status_code == 201
    assert _assert_error(_post(faultproxy.url, "/proxies", body), 409) == "proxy already exists"


def test_the_client_sees_a_duplicate_as_proxy_exists(toxiproxy: Toxiproxy,
                                                     echo_upstream: str) -> None:
    toxiproxy.create(upstream=echo_upstream, name="db")
    with pytest.raises(ProxyExists):
        toxiproxy.create(upstream=echo_upstream, name="db")


def test_unknown_proxy_and_toxic_are_not_found(faultproxy: ServerThread,
                                               toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    assert toxiproxy.get_proxy("nope") is None
    _assert_error(requests.get(f"{faultproxy.url}/proxies/nope", timeout=TIMEOUT_S), 404)
    _assert_error(requests.delete(f"{faultproxy.url}/proxies/nope", timeout=TIMEOUT_S), 404)
    proxy = toxiproxy.create(upstream=echo_upstream, name="db")
    with pytest.raises(NotFound):
        proxy.destroy_toxic("nope")
    _assert_error(requests.get(f"{faultproxy.url}/nowhere", timeout=TIMEOUT_S), 404)


@pytest.mark.parametrize(("listen", "upstream"), [
    ("0.0.0.0:0", "127.0.0.1:9"),
    ("127.0.0.1:0", "10.1.2.3:80"),
    ("127.0.0.1:0", "example.com:80"),
    ("[::]:0", "127.0.0.1:9"),
])
def test_addresses_outside_loopback_are_refused(faultproxy: ServerThread, toxiproxy: Toxiproxy,
                                                listen: str, upstream: str) -> None:
    message = _assert_error(_post(faultproxy.url, "/proxies",
                                  {"name": "x", "listen": listen, "upstream": upstream}), 400)
    assert "loopback" in message
    with pytest.raises(InvalidToxic):  # toxiproxy-python's name for any 400
        toxiproxy.create(upstream=upstream, name="x", listen=listen)
    assert toxiproxy.proxies() == {}


def test_moving_a_proxy_outside_loopback_is_refused(faultproxy: ServerThread,
                                                    echo_upstream: str) -> None:
    _post(faultproxy.url, "/proxies", {"name": "db", "upstream": echo_upstream})
    _assert_error(_post(faultproxy.url, "/proxies/db", {"upstream": "192.0.2.1:5432"}), 400)


def test_bad_bodies_are_bad_requests_with_a_json_error(faultproxy: ServerThread,
                                                       echo_upstream: str) -> None:
    raw = requests.post(f"{faultproxy.url}/proxies", data=b"{not json", timeout=TIMEOUT_S)
    assert _assert_error(raw, 400).startswith("bad request body")
    missing = _post(faultproxy.url, "/proxies", {"upstream": echo_upstream})
    assert _assert_error(missing, 400) == "missing required field: name"
    misspelt = _post(faultproxy.url, "/proxies", {"name": "db", "upstram": echo_upstream})
    assert "upstram" in _assert_error(misspelt, 400)


def test_toxic_errors_name_what_was_wrong(faultproxy: ServerThread, echo_upstream: str) -> None:
    _post(faultproxy.url, "/proxies", {"name": "db", "upstream": echo_upstream})
    toxics = "/proxies/db/toxics"
    assert "invalid toxic type" in _assert_error(
        _post(faultproxy.url, toxics, {"type": "packet_loss"}), 400)
    assert "stream" in _assert_error(
        _post(faultproxy.url, toxics, {"type": "latency", "stream": "sideways"}), 400)
    assert "latncy" in _assert_error(
        _post(faultproxy.url, toxics, {"type": "latency", "attributes": {"latncy": 5}}), 400)
    assert "toxicity" in _assert_error(
        _post(faultproxy.url, toxics, {"type": "latency", "toxicity": 1.5}), 400)
    assert _post(faultproxy.url, toxics, {"type": "latency"}).status_code == 200
    assert _assert_error(_post(faultproxy.url, toxics, {"type": "latency"}), 409) == (
        "toxic already exists")


def test_toxic_lifecycle_follows_toxiproxy(faultproxy: ServerThread, echo_upstream: str) -> None:
    _post(faultproxy.url, "/proxies", {"name": "db", "upstream": echo_upstream})
    created = _post(faultproxy.url, "/proxies/db/toxics",
                    {"type": "latency", "attributes": {"latency": 20}}).json()
    assert created == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                       "toxicity": 1.0, "attributes": {"latency": 20, "jitter": 0}}
    url = f"{faultproxy.url}/proxies/db/toxics/latency_downstream"
    assert requests.get(url, timeout=TIMEOUT_S).json() == created
    updated = requests.patch(url, json={"toxicity": 0.5, "attributes": {"jitter": 5}},
                             timeout=TIMEOUT_S).json()
    assert updated["toxicity"] == 0.5 and updated["attributes"] == {"latency": 20, "jitter": 5}
    listed = requests.get(f"{faultproxy.url}/proxies/db/toxics", timeout=TIMEOUT_S).json()
    assert listed == [updated]
    assert requests.get(f"{faultproxy.url}/proxies/db", timeout=TIMEOUT_S).json()[
        "toxics"] == [updated]
    assert requests.delete(url, timeout=TIMEOUT_S).status_code == 204
    _assert_error(requests.get(url, timeout=TIMEOUT_S), 404)


def test_populate_creates_keeps_and_replaces_proxies(faultproxy: ServerThread,
                                                     echo_upstream: str) -> None:
    first = _post(faultproxy.url, "/populate", [
        {"name": "a", "listen": "127.0.0.1:0", "upstream": echo_upstream},
        {"name": "b", "listen": "127.0.0.1:0", "upstream": echo_upstream, "enabled": False}])
    assert first.status_code == 201
    a, b = first.json()["proxies"]
    assert a["enabled"] is True and b["enabled"] is False
    again = _post(faultproxy.url, "/populate", [
        {"name": "a", "listen": a["listen"], "upstream": echo_upstream},
        {"name": "b", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}])
    kept, replaced = again.json()["proxies"]
    assert kept == a
    assert replaced["upstream"] == "127.0.0.1:9" and replaced["enabled"] is True
    bad = _post(faultproxy.url, "/populate", [{"name": "c"}])
    assert _assert_error(bad, 400) == "missing required field: upstream at proxy 1"


def test_reset_enables_every_proxy_and_removes_every_toxic(toxiproxy: Toxiproxy,
                                                           echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="db")
    proxy.add_toxic(type="latency", attributes={"latency": 10})
    proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 0})
    proxy.disable()
    assert toxiproxy.get_proxy("db").enabled is False
    assert toxiproxy.reset()
    after = toxiproxy.get_proxy("db")
    assert after.enabled is True and after.listen == proxy.listen and after.toxics() == {}


def test_updating_a_proxy_can_move_its_upstream(faultproxy: ServerThread,
                                                echo_upstream: str) -> None:
    _post(faultproxy.url, "/proxies", {"name": "db", "upstream": "127.0.0.1:9"})
    moved = _post(faultproxy.url, "/proxies/db", {"upstream": echo_upstream})
    assert moved.status_code == 200 and moved.json()["upstream"] == echo_upstream
    assert moved.json()["enabled"] is True


def test_browser_user_agents_are_refused(faultproxy: ServerThread) -> None:
    reply = requests.get(f"{faultproxy.url}/proxies", timeout=TIMEOUT_S,
                         headers={"User-Agent": "Mozilla/5.0"})
    assert reply.status_code == 403


def test_wrong_method_is_not_allowed(faultproxy: ServerThread) -> None:
    _assert_error(requests.put(f"{faultproxy.url}/proxies", timeout=TIMEOUT_S), 405)
