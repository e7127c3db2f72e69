"""The edge's CDN + WAF role: nginx with ModSecurity and the OWASP Core Rule Set, and nginx's
proxy cache, in front of HAProxy (Debian ``nginx-light``, ``libnginx-mod-http-modsecurity``,
``modsecurity-crs``).

nginx listens on the edge's port (the WAF as the suite sets it, the cache) and on a second
port with neither, so one run measures what the WAF costs; HAProxy, behind both, does the
regional failover. The renderers only see ports, paths and options; the platform writes the
files and runs nginx as an edge member. ``read_audit_log`` turns ModSecurity's JSON audit log
into the run folder's ``waf.jsonl`` (records.py's contract).
"""

from __future__ import annotations

import grp
import json
import math
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from gameday.edge_options import CacheOptions, WafOptions
from gameday.errors import PlatformError
from gameday.stacks import TARGETS_DIR

__all__ = ["CRS_RULES", "MODSECURITY_MODULE", "NginxConfig", "NginxRoute", "NginxServer",
           "WafEntry", "nginx_binary", "nginx_check", "read_audit_log", "render_modsecurity",
           "render_nginx"]

MODSECURITY_MODULE = Path("/usr/lib/nginx/modules/ngx_http_modsecurity_module.so")
CRS_RULES = Path("/usr/share/modsecurity-crs/rules")
_NGINX = "/usr/sbin/nginx"
_EDGE = TARGETS_DIR / "edge"
_BLOCKING_EVALUATION = 949110  # CRS: the inbound anomaly score reached the threshold
_TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache", "modsec-tmp", "modsec-data")


@dataclass(frozen=True)
class NginxRoute:
    path: str  # /<path> goes to HAProxy as it is (HAProxy strips the prefix)
    streaming: bool = False  # server-sent events: unbuffered, never cached


@dataclass(frozen=True)
class NginxServer:
    """One listener: the edge proper (WAF and cache as the suite says) or the plain one."""

    port: int
    waf: bool
    cache: bool
    waf_mark: str  # X-Edge-Waf on what passed: blocking | detection | off


@dataclass(frozen=True)
class NginxConfig:
    home: Path  # nginx.conf, modsecurity.conf, the temp and cache folders live here
    haproxy: str  # host:port of HAProxy's HTTP frontend
    servers: tuple[NginxServer, ...]
    routes: tuple[NginxRoute, ...]
    cache: CacheOptions | None
    max_body_bytes: int
    bind_address: str = "127.0.0.1"
    workers: int = 2
    max_connections: int = 4096
    timeout_connect_s: int = 5
    timeout_read_s: int = 60  # above HAProxy's server timeout: HAProxy answers first
    modsecurity_module: Path = MODSECURITY_MODULE
    log_requests: bool = False
    user: str | None = None  # started as root: the workers' user and group ("root root")


def _template(name: str) -> jinja2.Template:
    template: jinja2.Template = jinja2.Template(
        (_EDGE / name).read_text(), undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)
    return template


def render_nginx(config: NginxConfig) -> str:
    """The nginx.conf text for ``config``, from targets/edge/nginx.conf.tmpl."""
    return str(_template("nginx.conf.tmpl").render(c=config))


def render_modsecurity(waf: WafOptions, *, home: Path, audit_log: Path,
                       max_body_bytes: int) -> str:
    return str(_template("modsecurity.conf.tmpl").render(
        w=waf, home=home, audit_log=audit_log, max_body_bytes=max_body_bytes,
        exclusions=_EDGE / "crs-exclusions.conf"))


def prepare_home(home: Path) -> None:
    """The folders nginx and ModSecurity write into (nginx does not create them)."""
    for name in _TEMP_DIRS:
        (home / "nginx" / name).mkdir(parents=True, exist_ok=True)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (_NGINX if Path(_NGINX).exists() else None)


def missing_parts() -> list[str]:
    """What the WAF edge needs and this machine lacks (Debian package names)."""
    missing = []
    if nginx_binary() is None:
        missing.append("nginx-light")
    if not MODSECURITY_MODULE.exists():
        missing.append("libnginx-mod-http-modsecurity")
    if not CRS_RULES.is_dir():
        missing.append("modsecurity-crs")
    return missing


def nginx_argv(config_path: Path) -> tuple[str, ...]:
    return (nginx_binary() or _NGINX, "-e", "stderr", "-c", str(config_path))


def nginx_check(config_path: Path) -> None:
    """``nginx -t`` on the written files; PlatformError with nginx's own words if it fails
    (ModSecurity's rule errors included: the connector loads the rules at this point)."""
    done = subprocess.run([*nginx_argv(config_path), "-t", "-q"], capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise PlatformError(f"nginx -t rejected the edge config {config_path}:\n"
                            f"{done.stdout}{done.stderr}".rstrip())


@dataclass(frozen=True)
class WafEntry:
    """One transaction a CRS rule matched (a line of the run folder's ``waf.jsonl``)."""

    t_s: float
    label: str
    method: str
    uri: str
    status: int
    blocked: bool
    score: int | None
    rules: tuple[int, ...]
    mode: str

    def as_json(self) -> dict[str, Any]:
        return {"t_s": self.t_s, "label": self.label, "method": self.method, "uri": self.uri,
                "status": self.status, "blocked": self.blocked, "score": self.score,
                "rules": list(self.rules), "mode": self.mode}


def read_audit_log(path: Path, *, since_s: float, mode: str) -> Iterator[WafEntry]:
    """The audit log's entries from ``since_s`` on; lines that are not whole JSON objects
    (one being written) are skipped."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for line in handle:
            try:
                entry = _entry(json.loads(line), mode)
            except (ValueError, KeyError, TypeError):
                continue
            if entry is not None and entry.t_s >= math.floor(since_s):
                yield entry


def _entry(raw: dict[str, Any], mode: str) -> WafEntry | None:
    transaction = raw["transaction"]
    request = transaction.get("request") or {}
    headers = {str(k).lower(): v for k, v in (request.get("headers") or {}).items()}
    messages = transaction.get("messages") or []
    rules = tuple(int(m["details"]["ruleId"]) for m in messages
                  if str(m.get("details", {}).get("ruleId", "")).isdigit())
    if not rules:
        return None
    status = int((transaction.get("response") or {}).get("http_code") or 0)
    return WafEntry(
        t_s=_epoch(transaction.get("time_stamp", "")),
        label=str(headers.get("x-gameday-label", "")),
        method=str(request.get("method", "")), uri=str(request.get("uri", "")), status=status,
        blocked=mode == "blocking" and _BLOCKING_EVALUATION in rules and status == 403,
        score=_score(messages), rules=rules, mode=mode)


def _score(messages: list[dict[str, Any]]) -> int | None:
    """CRS's inbound anomaly score, from the blocking evaluation's message."""
    for message in messages:
        text = str(message.get("message", ""))
        if "Total Score: " in text:
            digits = text.split("Total Score: ", 1)[1].split(")", 1)[0]
            if digits.isdigit():
                return int(digits)
    return None


def _epoch(stamp: str) -> float:
    """ModSecurity's ``time_stamp`` ("Thu Dec  3 11:51:02 2026", local time) as epoch s
    (whole seconds: that is all the audit log gives)."""
    try:
        return time.mktime(time.strptime(" ".join(stamp.split()), "%a %b %d %H:%M:%S %Y"))
    except ValueError:
        return 0.0


def workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def worker_user() -> str | None:
    """The ``user`` directive for a master started as root: the harness's own user, whose
    home the workers write the cache and temp files into; None when not root (nginx then
    keeps the workers as the user it runs as)."""
    if os.geteuid() != 0:
        return None
    return f"{pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name}"
