"""Reference stacks declared as data: ``targets/<name>/stack.yaml`` read into a StackDef.

A stack is a set of components (``api``, ``db``, ``patroni``, ``etcd``, ...). Each says what its
members run (command, environment, user, working directory), how many there are (per region, or
the suite's replica count, plus optionally one witness at the edge), their ports, a health check
(http, tcp or a command), what it waits for, its restart policy, the data directories the
platform creates for it and the config files rendered for it. ``routes`` say which components
the edge routes to (http or tcp) and ``links`` on which paths between components the fault
proxy sits. Platforms turn a StackDef into processes (local) or manifests (kind); nothing else
hard-codes a stack. ``targets/README.md`` shows how to declare one.

Strings in commands, environment values, paths and config templates are Jinja2 templates over
the member they are rendered for; see ``gameday.platforms.local.render`` for the names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gameday.config import read_document, validation_message
from gameday.errors import ConfigError

__all__ = [
    "TARGETS_DIR",
    "ComponentDef",
    "ConfigFile",
    "DatabaseDef",
    "DriftDef",
    "HealthDef",
    "LinkDef",
    "MetricsDef",
    "ModelRepositoryDef",
    "ProbeRequest",
    "RouteDef",
    "StackDef",
    "load_stack",
    "stack_file",
]

# The reference stacks run from a checkout (they are the system under test, not the harness),
# so they are found by path and not installed as a package.
TARGETS_DIR = Path(__file__).resolve().parents[1] / "targets"
_NAME = r"^[a-z][a-z0-9]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthDef(_Strict):
    """``http``: GET ``path`` on ``port`` answers 200; ``tcp``: a connect to ``port``
    succeeds; ``command``: ``argv`` exits 0 (run as the member's user, templated)."""

    kind: Literal["http", "tcp", "command"] = "http"
    path: str = "/health"
    port: str | None = Field(None, description="a port name of the component; default: first")
    argv: tuple[str, ...] = ()
    timeout_s: float = Field(1.0, gt=0, le=60)

    @model_validator(mode="after")
    def _argv_for_command(self) -> HealthDef:
        if self.kind == "command" and not self.argv:
            raise ValueError("a command health check needs argv")
        return self


class MetricsDef(_Strict):
    """Where Prometheus scrapes a member: GET ``path`` on ``port``."""

    port: str | None = Field(None, description="a port name of the component; default: first")
    path: str = Field("/metrics", pattern=r"^/[A-Za-z0-9/_.-]*$")


class ConfigFile(_Strict):
    """A template (path relative to the stack's folder) rendered to ``path`` per member."""

    template: str
    path: str
    mode: int = Field(0o644, ge=0, le=0o777)


class VolumeDef(_Strict):
    """A size-capped data directory; ``size_mb`` is a template: "0" (or empty) means none."""

    path: str
    size_mb: str


class ComponentDef(_Strict):
    when: str | None = Field(None, description="a Jinja expression over `settings`: the "
                                               "component runs only where it is true")
    regions: str | None = Field(None, description="a Jinja expression over `settings` giving "
                                                  "the regions with members (default: both)")
    command: tuple[str, ...] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str = "{{ repo }}"
    user: str | None = Field(None, description="run as this user (templated; the platform "
                                               "creates dirs owned by it); default: the "
                                               "harness's user")
    members: int | Literal["replicas"] = Field(
        1, description="members per region; 'replicas' takes the suite's replica count")
    witness: bool = Field(False, description="one more member beside the edge (a quorum "
                                             "witness, e.g. the third etcd member)")
    ports: dict[str, int] = Field(min_length=1, description="name → base port; every member "
                                                             "listens on its own address")
    health: HealthDef | None = HealthDef()
    metrics: MetricsDef | None = Field(None, description="its Prometheus endpoint, if any")
    after: tuple[str, ...] = Field((), description="components that must be healthy first")
    restart: Literal["always", "on-failure", "never"] = "always"
    start_timeout_s: float = Field(60.0, gt=0, le=3600)
    stop_timeout_s: float = Field(5.0, gt=0, le=300)
    data_dirs: tuple[str, ...] = Field((), description="created (owned by user) before start")
    volumes: tuple[VolumeDef, ...] = Field((), description="size-capped data directories "
                                           "(a disk-full fault fills these, never the host)")
    pid_files: tuple[str, ...] = Field(
        (), description="pid files of processes the member starts outside its process tree "
                        "(Patroni daemonizes the postmaster): signalled with the member")
    config_files: tuple[ConfigFile, ...] = ()

    @model_validator(mode="after")
    def _health_port_exists(self) -> ComponentDef:
        if self.health and self.health.port and self.health.port not in self.ports:
            raise ValueError(f"health.port {self.health.port!r} is not one of the ports "
                             f"{sorted(self.ports)}")
        if self.metrics and self.metrics.port and self.metrics.port not in self.ports:
            raise ValueError(f"metrics.port {self.metrics.port!r} is not one of the ports "
                             f"{sorted(self.ports)}")
        return self


class RouteDef(_Strict):
    """The edge routes ``/<path>/...`` (http) or a listener port (tcp) to a component."""

    path: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    component: str
    port: str | None = None
    mode: Literal["http", "tcp"] = "http"
    shallow_health_path: str = "/health"
    deep_health_path: str = "/ready"
    replay_safe: bool = Field(False, description="the edge may retry a request elsewhere")
    observe: Literal["layer4", "layer7"] = Field(
        "layer7", description="what of live traffic marks a server down between health checks: "
                              "layer7 also counts 5xx answers, layer4 only connection errors")
    listen_port: int | None = Field(None, ge=1024, le=65535, description="tcp routes only")
    streaming: bool = Field(False, description="answers stream (server-sent events): the edge "
                            "passes each write on at once instead of holding small writes to "
                            "fill packets (HAProxy's default, which bunches tokens)")

    @model_validator(mode="after")
    def _tcp_needs_listener(self) -> RouteDef:
        if self.mode == "tcp" and self.listen_port is None:
            raise ValueError("a tcp route needs listen_port")
        return self


class LinkDef(_Strict):
    """Cross-region traffic to ``component``'s ``port`` goes through the fault proxy: one proxy
    per member, which members of the other region reach instead of the member itself."""

    name: str = Field(pattern=_NAME)
    component: str
    port: str | None = None
    protocol: Literal["http", "postgres"] = Field(
        "http", description="what a fault's check speaks through the link to time it")


class DatabaseDef(_Strict):
    """The stack's PostgreSQL: which component's members are its nodes, and how to reach them.
    The suite's ``database`` section (failover mode, replication) reaches the templates as
    ``settings.database``."""

    component: str
    port: str = "pg"
    patroni_api_port: str | None = Field(None, description="the port Patroni's REST API "
                                                            "listens on, in patroni mode")
    dbname: str = "postgres"
    user: str = "postgres"
    pid_file: str | None = Field(None, description="the postmaster's pid file (templated): "
                                 "a postmaster-only kill reads it")
    socket_dir: str | None = Field(None, description="the node's unix socket directory "
                                   "(templated): the harness's probes and audit go there, out "
                                   "of band, so a network partition does not blind them")


class ModelRepositoryDef(_Strict):
    """A serving engine with the KServe v2 model repository API (Triton's): the component that
    serves ``model`` on ``port``, and the folder in each member's data directory whose control
    files the model reads (the stalled-backend fault writes ``stall`` there)."""

    component: str
    model: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    port: str = "http"
    control_dir: str = Field("control", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ProbeRequest(_Strict):
    """One request that proves a member can serve: POST ``body`` to an endpoint."""

    endpoint: str
    body: dict[str, Any]


class DriftDef(_Strict):
    """A component that compares its recent inputs with its training data: ``path`` answers
    the comparison (the drift watch polls it), ``reference_path`` the training rows it compares
    against (the drift fault replays them, shifted, to the endpoint ``endpoint``)."""

    component: str
    port: str = "http"
    path: str = Field(pattern=r"^/")
    reference_path: str = Field(pattern=r"^/")
    endpoint: str


class StackDef(_Strict):
    name: str = Field(pattern=_NAME)
    octet: int = Field(ge=1, le=250, description="third octet of member addresses in a region")
    components: dict[str, ComponentDef] = Field(min_length=1)
    routes: tuple[RouteDef, ...] = ()
    links: tuple[LinkDef, ...] = ()
    endpoints: dict[str, str] = Field(default_factory=dict)
    model_admin_path: str | None = Field(None, description="POST {uri} here hot-loads a model")
    restore_model_uri: str | None = None
    probe_request: ProbeRequest | None = None
    database: DatabaseDef | None = None
    model_repository: ModelRepositoryDef | None = None
    drift: DriftDef | None = None
    folder: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _references_resolve(self) -> StackDef:
        names = set(self.components)
        for key in self.components:
            if not _is_name(key):
                raise ValueError(f"component name {key!r}: lower-case letters and digits")
        for key, component in self.components.items():
            unknown = set(component.after) - names
            if unknown:
                raise ValueError(f"components.{key}.after: unknown {sorted(unknown)}")
        refs: list[tuple[str, str, str | None]] = [
            *((f"route {r.path}", r.component, r.port) for r in self.routes),
            *((f"link {k.name}", k.component, k.port) for k in self.links)]
        if self.model_repository is not None:
            refs.append(("model_repository", self.model_repository.component,
                         self.model_repository.port))
        if self.drift is not None:
            refs.append(("drift", self.drift.component, self.drift.port))
        if self.database is not None:
            refs.append(("database", self.database.component, self.database.port))
            if self.database.patroni_api_port:
                refs.append(("database", self.database.component,
                             self.database.patroni_api_port))
        for what, target, port in refs:
            if target not in names:
                raise ValueError(f"{what}: unknown component {target!r}; have "
                                 f"{sorted(names)}")
            if port and port not in self.components[target].ports:
                raise ValueError(f"{what}: {port!r} is not a port of {target}")
        if self.probe_request and self.probe_request.endpoint not in self.endpoints:
            raise ValueError(f"probe_request.endpoint {self.probe_request.endpoint!r} is not "
                             f"one of the endpoints {sorted(self.endpoints)}")
        if self.drift and self.drift.endpoint not in self.endpoints:
            raise ValueError(f"drift.endpoint {self.drift.endpoint!r} is not one of the "
                             f"endpoints {sorted(self.endpoints)}")
        _check_order(self.components)
        return self

    def port_of(self, component: str, name: str | None) -> int:
        ports = self.components[component].ports
        return ports[name] if name else next(iter(ports.values()))

    def start_order(self) -> list[str]:
        """Components in an order where each comes after what it waits for."""
        done: list[str] = []
        while len(done) < len(self.components):
            for name, component in self.components.items():
                if name not in done and set(component.after) <= set(done):
                    done.append(name)
        return done


def _is_name(value: str) -> bool:
    return value.isascii() and value[:1].isalpha() and value.isalnum() and value.islower()


def _check_order(components: dict[str, ComponentDef]) -> None:
    waiting = {name: set(c.after) for name, c in components.items()}
    while waiting:
        ready = [name for name, deps in waiting.items() if not deps & set(waiting)]
        if not ready:
            raise ValueError(f"components wait for each other in a cycle: {sorted(waiting)}")
        for name in ready:
            del waiting[name]


def stack_file(name: str, search: tuple[Path, ...] = ()) -> Path:
    """``<dir>/<name>/stack.yaml`` from the first of ``search`` then ``targets/`` that has it."""
    for folder in (*search, TARGETS_DIR):
        path = folder / name / "stack.yaml"
        if path.is_file():
            return path
    known = sorted(p.parent.name for folder in (*search, TARGETS_DIR)
                   for p in folder.glob("*/stack.yaml"))
    raise ConfigError(f"unknown stack {name!r}; known stacks: {', '.join(known)}")


def load_stack(name: str, search: tuple[Path, ...] = ()) -> StackDef:
    path = stack_file(name, search)
    raw = read_document(path)
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping at the top level", source=str(path))
    try:
        stack = StackDef.model_validate({**raw, "folder": path.parent})
    except ValidationError as exc:
        field, message = validation_message(exc)
        raise ConfigError(message, source=str(path), field=field) from None
    if stack.name != name:
        raise ConfigError(f"the stack in folder {name!r} is named {stack.name!r}",
                          source=str(path), field="name")
    return stack
