"""Renders a stack's templated strings (commands, environment, paths, config files) for one
member, with every other member of the stack in reach.

Names a template sees: ``python``, ``repo``, ``artifacts``, ``home``, ``name``, ``stack``,
``component``, ``region``, ``index``, ``address``, ``ports`` (name → port), ``data`` (the
member's data directory), ``members`` (component → list of members, each with ``name``,
``region``, ``address``, ``ports``), ``links`` (link name → region → the fault-proxy
listeners, "host:port", through which the other region reaches that region's members),
``settings`` (what the suite says about the stack: ``settings.database.failover``, ...),
``site_packages`` (the harness's Python packages, for binaries a package ships),
``primary_region`` and ``gpu`` (the suite's ``triton.device``: gpu, or auto with one present).
Filters: ``hostports(port)`` → "a:p,b:q"; ``named_urls(port, scheme)`` → "n1=scheme://a:p,...";
``libpq_hosts(port, link, region)`` → "host=a,l port=p,q": the region's own members directly,
first, then the other regions' members through their ``link`` listeners (a libpq multi-host
target that prefers the near node and crosses the fault proxy to the far one).
An unknown name is an error, not an empty string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from gameday.errors import ConfigError

__all__ = ["MemberView", "Renderer"]


@dataclass(frozen=True)
class MemberView:
    name: str
    region: str
    address: str
    ports: Mapping[str, int]


def _hostports(members: Sequence[MemberView], port: str) -> str:
    return ",".join(f"{m.address}:{m.ports[port]}" for m in members)


def _named_urls(members: Sequence[MemberView], port: str, scheme: str = "http") -> str:
    return ",".join(f"{m.name}={scheme}://{m.address}:{m.ports[port]}" for m in members)


def _libpq_hosts(members: Sequence[MemberView], port: str,
                 link: Mapping[str, Sequence[str]], region: str) -> str:
    near = [(m.address, str(m.ports[port])) for m in members if m.region == region]
    far = [tuple(listen.rsplit(":", 1)) for m in members if m.region != region
           for listen in link.get(m.region, ())]
    pairs = list(dict.fromkeys([*near, *far]))
    return f"host={','.join(h for h, _ in pairs)} port={','.join(p for _, p in pairs)}"


class Renderer:
    def __init__(self, source: str) -> None:
        self.source = source
        self._env = jinja2.Environment(undefined=jinja2.StrictUndefined,
                                       keep_trailing_newline=True, autoescape=False)
        self._env.filters["hostports"] = _hostports
        self._env.filters["named_urls"] = _named_urls
        self._env.filters["libpq_hosts"] = _libpq_hosts

    def evaluate(self, expression: str, context: Mapping[str, Any], *, field: str) -> Any:
        """The value of a Jinja expression (``when``, ``regions``)."""
        try:
            return self._env.compile_expression(expression, undefined_to_none=False)(**context)
        except jinja2.TemplateError as exc:
            raise ConfigError(f"expression {expression[:60]!r}: {exc}", source=self.source,
                              field=field) from None

    def render(self, text: str, context: Mapping[str, Any], *, field: str) -> str:
        try:
            return self._env.from_string(text).render(**context)
        except jinja2.TemplateError as exc:
            raise ConfigError(f"template {text[:60]!r}: {exc}", source=self.source,
                              field=field) from None
