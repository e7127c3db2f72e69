"""Closed-model labelled mix through the edge (benign requests and attacks), for the plain
Locust CLI::

    locust -f loadtests/edge_attacks.py --headless -u 4 -r 4 -t 20s -H http://127.0.0.1:8080/tabular

The host's last path segment names the stack (``tabular``, ``rag`` or ``triton``), as the
edge routes by it; aim at the edge's ``edge-no-waf`` entry to see the same mix without the
WAF. Users take turns through the seeded mix the harness's ``attack`` load sends
(``gameday.load.attacks``, seed 7), each request with its own method, request target, body
and ``X-Gameday-Label`` header, and judged as the pacer judges it (``gameday.load.labelled``):
an attack succeeds when the edge refused it, a benign request when its endpoint's check
passes. Locust's statistics are named by label.

Sent through the pacer's own transport (``gameday.load.transport``), not ``FastHttpSession``:
that one re-quotes a URL (``%2e%2e/`` goes out as ``../``), and an encoded traversal must go
out as the set wrote it. ``GAMEDAY_EDGE_TIMEOUT_S`` (default 10) bounds each request.

With ``GAMEDAY_RUN_DIR`` set, every request is also recorded there as a ``RequestRecord``
(``requests-locust-<pid>.csv``, endpoint ``attack``, with its ``label``, ``waf`` and
``edge_cache``; scheduled = start in a closed model). ``GAMEDAY_RAG_DOCUMENTS`` (default 400)
is the base corpus a rag stack was seeded with.
"""

from __future__ import annotations

import itertools
import os
from typing import Any
from urllib.parse import urlsplit

from locust import User, constant, task

from gameday.errors import LoadError
from gameday.load.attacks import STACKS, labelled_mix
from gameday.load.labelled import (
    GUARD_HEADER,
    LABELLED_CONTEXT_KEY,
    LabelledRequest,
    judge,
    ready_to_send,
)
from gameday.load.locust_hooks import record_into_run_dir
from gameday.load.payloads import REGION_HEADER, WAF_HEADER
from gameday.load.plan import join_url, require_loopback
from gameday.load.transport import PlainTransport

__all__ = ["EdgeAttackUser", "NotRefused", "stack_of"]

_ENDPOINT = "attack"
_SEED, _K = 7, 5
_DOCUMENTS = int(os.environ.get("GAMEDAY_RAG_DOCUMENTS", "400"))
_TIMEOUT_S = float(os.environ.get("GAMEDAY_EDGE_TIMEOUT_S", "10"))
_ORDER = itertools.count()  # users of this process take turns through the same mix


class NotRefused(Exception):
    """What Locust is told of a request judged not ok (an attack let through, a benign request
    refused or answered wrongly)."""


def stack_of(host: str) -> str:
    """The stack an edge URL routes to: its last path segment (``.../tabular``)."""
    require_loopback(host)
    stack = urlsplit(host).path.rstrip("/").rsplit("/", 1)[-1]
    if stack not in STACKS:
        raise LoadError(f"host {host!r}: expected an edge URL ending in one of the stacks "
                        f"/{', /'.join(STACKS)}")
    return stack


def _header(response: Any, name: str) -> str:
    value = (response.headers or {}).get(name)
    return value if isinstance(value, str) else ""


class EdgeAttackUser(User):
    """Sends the next request of the labelled mix as soon as the previous answer came back."""

    wait_time = constant(0)

    def on_start(self) -> None:
        host = self.host or ""
        self._stack = stack_of(host)
        mix = labelled_mix(self._stack, seed=_SEED, documents=_DOCUMENTS, k=_K)
        self._sends = ready_to_send(mix, host)
        self._transport = PlainTransport(join_url(host, "/"), "POST", {}, concurrency=1,
                                         timeout_s=_TIMEOUT_S, on_request=self._report)

    def on_stop(self) -> None:
        self._transport.close()

    @task
    def send(self) -> None:
        request, target, headers = self._sends[next(_ORDER) % len(self._sends)]
        context = {"stack": self._stack, "endpoint": _ENDPOINT, LABELLED_CONTEXT_KEY: request}
        self._transport.send_to(request.method, target, headers, request.body, context)

    def _report(self, **event: Any) -> None:
        """Judge the answer for Locust's statistics (named by label), then report it; the
        recorder judges it again from the same answer."""
        request: LabelledRequest = event["context"][LABELLED_CONTEXT_KEY]
        response = event["response"]
        if event["exception"] is None:
            ok, error_kind = judge(request, response.status_code, response.content,
                                   waf=_header(response, WAF_HEADER),
                                   region=_header(response, REGION_HEADER),
                                   guard=_header(response, GUARD_HEADER))
            if not ok:
                event["exception"] = NotRefused(
                    f"{error_kind} (status {response.status_code}, "
                    f"waf {_header(response, WAF_HEADER) or 'none'})")
        self.environment.events.request.fire(**{**event, "name": request.label})


record_into_run_dir()
