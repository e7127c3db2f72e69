"""The global edge: HAProxy config rendering (regional failover, limits) and its runtime API.

The renderer only sees (name, address, port) servers; whether they are replicas or fault-proxy
listeners in front of them is the platform's business.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Literal

import jinja2

from gameday.errors import PlatformError
from gameday.stacks import TARGETS_DIR

__all__ = [
    "AdminState",
    "EdgeBackend",
    "EdgeConfig",
    "EdgeServer",
    "HaproxyAdmin",
    "Observe",
    "ServerState",
    "check_haproxy_config",
    "haproxy_argv",
    "render_haproxy_config",
]

AdminState = Literal["ready", "drain", "maint"]
Observe = Literal["layer4", "layer7", "none"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_PATH_UNSAFE = re.compile(r"[\s\"'#\\]")
_SUN_PATH_MAX_BYTES = 107  # sockaddr_un.sun_path is 108 bytes including the NUL


def _require_name(kind: str, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(f"{kind} {value!r}: expected letters, digits, '_', '.', '-'")


@dataclass(frozen=True)
class EdgeServer:
    """One server line: a replica, or the fault-proxy listener in front of one."""

    name: str
    address: str
    port: int
    weight: int | None = None  # HAProxy's server weight (0-256); None: its default, 1

    def __post_init__(self) -> None:
        _require_name("server name", self.name)
        if self.weight is not None and not 0 <= self.weight <= 256:
            raise ValueError(f"server {self.name}: weight {self.weight} is not 0-256")
        try:
            ipaddress.IPv4Address(self.address)
        except ValueError:
            if not _HOSTNAME.match(self.address):
                raise ValueError(
                    f"server {self.name}: address {self.address!r} is not IPv4 or a host name"
                ) from None
        if not 0 < self.port < 65536:
            raise ValueError(f"server {self.name}: port {self.port} out of range")


@dataclass(frozen=True)
class EdgeBackend:
    """A stack's backend: the primary region's servers active, the other region's as backup.

    replay_safe: the stack's requests may be replayed on another server after they were sent
    (pure inference). Otherwise only GET/HEAD/OPTIONS are retried past a connection failure.
    """

    stack: str  # the route's path prefix: /<stack>/... comes here
    primary: tuple[EdgeServer, ...]
    backup: tuple[EdgeServer, ...] = ()
    name: str = ""  # the HAProxy backend's name; "" = stack
    client_region: str | None = None  # geo: only requests whose X-Client-Region names it
    health_path: str = "/ready"
    health_body: str | None = None  # POST this (JSON) to health_path: a canary inference
    replay_safe: bool = False
    mode: Literal["http", "tcp"] = "http"
    listen_port: int | None = None  # tcp backends: the edge's listener for them
    observe: Observe | None = None  # None: the edge's default (EdgeConfig.observe)
    streaming: bool = False  # option http-no-delay: each server write goes out at once

    @property
    def backend(self) -> str:
        return self.name or self.stack

    def __post_init__(self) -> None:
        _require_name("stack", self.stack)
        _require_name("backend", self.backend)
        if self.stack == "no_such_stack":
            raise ValueError("stack name 'no_such_stack' is reserved by the edge")
        if not self.primary:
            raise ValueError(f"stack {self.stack}: needs at least one primary server")
        names = [s.name for s in (*self.primary, *self.backup)]
        if len(set(names)) != len(names):
            raise ValueError(f"stack {self.stack}: server names repeat: {names}")
        if not self.health_path.startswith("/") or _PATH_UNSAFE.search(self.health_path):
            raise ValueError(f"stack {self.stack}: bad health path {self.health_path!r}")
        if self.mode == "tcp" and not self.listen_port:
            raise ValueError(f"stack {self.stack}: a tcp backend needs listen_port")


@dataclass(frozen=True)
class EdgeConfig:
    """Everything the edge's haproxy.cfg depends on. Durations in ms as HAProxy takes them."""

    backends: tuple[EdgeBackend, ...]
    admin_socket: Path
    _: KW_ONLY
    # server name → region, read by HAProxy to name the serving region on every answer
    # (X-Served-By-Region), so stacks that cannot set headers get failover figures too;
    # `add map` keeps it current for servers added at run time.
    region_map: Path | None = None
    bind_address: str = "127.0.0.1"
    port: int = 8080
    stats_port: int = 8404
    check_inter_ms: int = 500
    fall: int = 2
    rise: int = 2
    # layer7: a reset or empty reply through a TCP proxy counts; layer4 sees only refusals.
    observe: Observe = "layer7"
    error_limit: int = 1
    # fail-back: when a primary server comes back, also cut the sessions open on backups
    fail_back_immediate: bool = False
    # behind nginx: the per-client rate limit keys on the last X-Forwarded-For address (the
    # client as nginx saw it), else on the connection's source
    client_from_forwarded_for: bool = True
    retries: int = 2
    max_body_bytes: int = 65536
    rate_limit_per_s_per_source: int = 5000
    timeout_connect_ms: int = 500
    timeout_server_ms: int = 5000
    timeout_client_ms: int = 30000
    timeout_http_request_ms: int = 10000
    max_connections: int = 4096
    log_requests: bool = False

    def __post_init__(self) -> None:
        names = [b.backend for b in self.backends]
        if len(set(names)) != len(names):
            raise ValueError(f"edge: backend names repeat: {names}")
        socket_path = str(self.admin_socket)
        if _PATH_UNSAFE.search(socket_path):
            raise ValueError(f"edge: admin socket path {socket_path!r} has unsafe characters")
        if len(socket_path.encode()) > _SUN_PATH_MAX_BYTES:
            raise ValueError(f"edge: admin socket path longer than 107 bytes: {socket_path}")
        if self.port == self.stats_port:
            raise ValueError(f"edge: port and stats_port are both {self.port}")


def _server_options(
    check_inter_ms: int, fall: int, rise: int, observe: Observe, error_limit: int
) -> str:
    # Spelt out on every server, not via default-server: runtime-added servers ignore it.
    checks = f"check inter {check_inter_ms}ms fall {fall} rise {rise}"
    if observe == "none":
        return checks
    return f"{checks} observe {observe} error-limit {error_limit} on-error mark-down"


def server_line_options(server: EdgeServer, options: str, *, backup: bool,
                        fail_back_immediate: bool = False) -> str:
    """What follows ``server <name> <addr>:<port>`` for one server of a backend."""
    parts = [options]
    if server.weight is not None:
        parts.append(f"weight {server.weight}")
    if backup:
        parts.append("backup")
    elif fail_back_immediate:
        parts.append("on-marked-up shutdown-backup-sessions")
    return " ".join(parts)


def render_haproxy_config(config: EdgeConfig) -> str:
    """The haproxy.cfg text for `config`, from targets/edge/haproxy.cfg.tmpl."""
    text = (TARGETS_DIR / "edge" / "haproxy.cfg.tmpl").read_text()
    template = jinja2.Template(
        text,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    backend_options = {
        b.backend: _server_options(config.check_inter_ms, config.fall, config.rise,
                                   b.observe or config.observe, config.error_limit)
        for b in config.backends}
    tcp_options = _server_options(
        config.check_inter_ms, config.fall, config.rise, "layer4", config.error_limit
    )
    log_level = "info" if config.log_requests else "notice"
    return str(template.render(c=config, backend_options=backend_options,
                               server_options_tcp=tcp_options, line=server_line_options,
                               log_level=log_level))


def _haproxy_binary() -> str:
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise PlatformError("haproxy not found on PATH nor in /usr/sbin (apt install haproxy)")
    return found


def haproxy_argv(config_path: Path) -> list[str]:
    """Command line that runs HAProxy in the foreground on `config_path` (for a supervisor)."""
    return [_haproxy_binary(), "-db", "-f", str(config_path)]


def check_haproxy_config(config_text: str) -> list[str]:
    """HAProxy's warnings about the text (none for a rendered config); PlatformError with
    HAProxy's own words if `haproxy -c` rejects it."""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", prefix="gameday-edge-") as handle:
        handle.write(config_text)
        handle.flush()
        done = subprocess.run(
            [_haproxy_binary(), "-c", "-f", handle.name],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    if done.returncode != 0:
        raise PlatformError(f"haproxy -c rejected the edge config:\n{done.stdout}{done.stderr}")
    return [line for line in (done.stdout + done.stderr).splitlines() if "WARNING" in line]


@dataclass(frozen=True)
class ServerState:
    """One server as the running HAProxy sees it."""

    name: str
    address: str
    port: int
    operational: bool  # up by its health checks; always False in maint
    admin_state: AdminState
    check_status: str  # last check result: "L7OK", "L4CON", "L7STS", ...; "" in maint
    weight: int = 1  # the weight it takes traffic by now (srv_uweight: the one `set weight` sets)


# srv_admin_state bits (HAProxy's SRV_ADMF_*): any *MAINT bit means maint, *DRAIN means drain.
_ADMIN_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
_ADMIN_DRAIN_BITS = 0x08 | 0x10
_OP_STATE_RUNNING = 2


def _runtime_table(reply: str, what: str) -> list[dict[str, str]]:
    """Rows of a runtime API table whose header line is '# name name ...' (space or CSV)."""
    lines = [line for line in reply.splitlines() if line]
    header_at = next((n for n, line in enumerate(lines) if line.startswith("# ")), None)
    if header_at is None:
        raise PlatformError(f"haproxy: {what}: {reply.strip() or '(no reply)'}")
    sep = "," if "," in lines[header_at] else None
    names = lines[header_at][2:].split(sep)
    return [dict(zip(names, line.split(sep), strict=False)) for line in lines[header_at + 1 :]]


def _server_state(row: dict[str, str], check_status: str) -> ServerState:
    admin_bits = int(row["srv_admin_state"])
    admin: AdminState = "ready"
    if admin_bits & _ADMIN_MAINT_BITS:
        admin = "maint"
    elif admin_bits & _ADMIN_DRAIN_BITS:
        admin = "drain"
    return ServerState(
        name=row["srv_name"],
        address=row["srv_addr"],
        port=int(row["srv_port"]),
        operational=int(row["srv_op_state"]) == _OP_STATE_RUNNING,
        admin_state=admin,
        check_status=check_status,
        weight=int(row.get("srv_uweight") or 1),
    )


class HaproxyAdmin:
    """Client for HAProxy's runtime API on its AF_UNIX stats socket (no socat needed)."""

    def __init__(self, socket_path: Path, timeout_s: float = 2.0) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s

    def command(self, text: str) -> str:
        """Send one runtime API command and return HAProxy's full reply."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout_s)
                sock.connect(str(self.socket_path))
                sock.sendall(text.encode() + b"\n")
                chunks: list[bytes] = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise PlatformError(f"haproxy admin socket {self.socket_path}: {exc}") from exc
        return b"".join(chunks).decode()

    def _expect(self, text: str, *accepted: str) -> str:
        reply = self.command(text).strip()
        if reply not in accepted:
            raise PlatformError(f"haproxy refused {text!r}: {reply or '(no reply)'}")
        return reply

    def server_states(self, backend: str) -> list[ServerState]:
        """Every server of `backend` with its health and admin state."""
        what = f"backend {backend!r}"
        rows = _runtime_table(self.command(f"show servers state {backend}"), what)
        stats = _runtime_table(self.command(f"show stat {backend} 4 -1"), what)
        # "* L7OK" means a check is running; the status is still the last result.
        check_status = {row["svname"]: row["check_status"].lstrip("* ") for row in stats}
        return [_server_state(row, check_status.get(row["srv_name"], "")) for row in rows]

    def server_sessions(self, backend: str, server: str) -> int:
        """Sessions the server has open now (``scur``); 0 when HAProxy does not list it."""
        rows = _runtime_table(self.command(f"show stat {backend} 4 -1"), f"backend {backend!r}")
        return next((int(row["scur"] or 0) for row in rows if row["svname"] == server), 0)

    def sessions_by_server(self) -> dict[str, int]:
        """Open sessions (``scur``) of every server of every backend, by server name."""
        rows = _runtime_table(self.command("show stat -1 4 -1"), "every backend")
        found: dict[str, int] = {}
        for row in rows:
            found[row["svname"]] = found.get(row["svname"], 0) + int(row["scur"] or 0)
        return found

    def add_map_entry(self, map_path: Path, key: str, value: str) -> None:
        """Add ``key value`` to a loaded map file (HAProxy's copy only, not the file)."""
        self._expect(f"add map {map_path} {key} {value}", "")

    def set_server_state(self, backend: str, server: str, state: AdminState) -> None:
        """Put a server in ready, drain (no new sessions) or maint (no traffic at all)."""
        self._expect(f"set server {backend}/{server} state {state}", "")

    def set_server_weight(self, backend: str, server: str, weight: int) -> None:
        """Its share of a roundrobin backend's traffic: weight / the sum of the weights of the
        servers that take traffic (0-256; 0 takes none). In effect for the next request."""
        if not 0 <= weight <= 256:
            raise PlatformError(f"{backend}/{server}: weight {weight} is not 0-256")
        self._expect(f"set server {backend}/{server} weight {weight}", "")

    def add_server(
        self,
        backend: str,
        server: EdgeServer,
        *,
        backup: bool = False,
        check_inter_ms: int = 500,
        fall: int = 2,
        rise: int = 2,
        observe: Observe = "layer7",
        error_limit: int = 1,
        fail_back_immediate: bool = False,
    ) -> None:
        """Register a server at runtime, start its health checks, then let traffic in."""
        options = server_line_options(
            server, _server_options(check_inter_ms, fall, rise, observe, error_limit),
            backup=backup, fail_back_immediate=fail_back_immediate)
        line = f"add server {backend}/{server.name} {server.address}:{server.port} {options}"
        self._expect(line, "New server registered.")
        # A runtime-added server starts in maintenance with its checks off.
        self._expect(f"enable health {backend}/{server.name}", "")
        self._expect(f"enable server {backend}/{server.name}", "")

    def del_server(self, backend: str, server: str, drain_timeout_s: float = 5.0) -> None:
        """Drain, put in maint, then delete once its in-flight sessions are gone."""
        self.set_server_state(backend, server, "drain")
        self.set_server_state(backend, server, "maint")
        deadline_s = time.monotonic() + drain_timeout_s
        while True:
            reply = self.command(f"del server {backend}/{server}").strip()
            if reply == "Server deleted.":
                return
            if "still has connections" not in reply or time.monotonic() > deadline_s:
                raise PlatformError(f"haproxy refused to delete {backend}/{server}: {reply}")
            time.sleep(0.05)
