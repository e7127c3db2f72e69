"""The Platform interface: what run orchestration and faults may ask of any platform.

A platform stands stacks up in two regions behind a global edge, tells where things are
(``members``, ``edge_url``) and tears everything down. Faults need more: the optional
capabilities below (``RegionControl``, ``LinkControl``, ``NetworkControl``, ``ModelControl``,
``ScaleControl``, ``EdgeObserver``, ``FaultView``). A fault asks ``isinstance(platform,
RegionControl)``, never reaches past the interface, and gets its effect checked by the
platform: a kind platform cannot look a host pid up with psutil.

Every capability that injects a fault records it with its owner (the calling process) before
injecting, verifies that it took effect, and undoes it if not; the platform rolls back the
faults of an owner that died, and ``reset_faults`` and ``down`` undo every one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from gameday.edge_options import EdgeOptions
from gameday.errors import FaultError
from gameday.platforms.shift import InputShift
from gameday.records import EdgeServerSample

__all__ = [
    "EDGE",
    "PRIMARY_REGION",
    "REGIONS",
    "REGION_BLOCKS",
    "DatabaseAccess",
    "DatabaseInfo",
    "DbNode",
    "Direction",
    "EdgeObserver",
    "FaultView",
    "HpaObserver",
    "HpaState",
    "InputDriftControl",
    "LinkControl",
    "Member",
    "MemberState",
    "MetricsSource",
    "ModelControl",
    "ModelRepositoryControl",
    "NetworkControl",
    "Platform",
    "Progress",
    "RegionControl",
    "ReleaseControl",
    "ScaleControl",
    "ServingLoadControl",
    "StackRequest",
    "ToxicSpec",
    "check_region",
]

REGIONS = ("region-a", "region-b")
PRIMARY_REGION = REGIONS[0]  # where a stack's primary (the database's, the edge's) starts
EDGE = "edge"
REGION_BLOCKS = {"region-a": "127.10.0.0/16", "region-b": "127.20.0.0/16", EDGE: "127.0.0.1/32"}

def check_region(region: str) -> None:
    if region not in REGIONS:
        raise FaultError(f"unknown region {region!r}; expected one of {', '.join(REGIONS)}")


Direction = Literal["ingress", "egress", "both"]
# where a client enters the edge: through the WAF and cache (the edge proper), through the same
# nginx without them (what the WAF costs), or straight into the failover layer (HAProxy)
EdgeEntry = Literal["edge", "edge-no-waf", "haproxy"]
Progress = Callable[[str], None]


class MemberState(StrEnum):
    WAITING = "waiting"  # its start group has not started yet
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    EXITED = "exited"  # ended by itself; the restart policy decides what next
    HELD_DOWN = "held-down"  # killed by a fault; no restart until the fault is undone
    FROZEN = "frozen"  # SIGSTOPped by a fault
    DRAINING = "draining"  # being removed: the edge sends it nothing new
    STOPPED = "stopped"


@dataclass(frozen=True)
class StackRequest:
    """What to stand up: which stacks, how many replicas per region, how the edge checks them,
    fails over between the regions, filters (WAF) and caches (``edge``).

    ``stack_dirs`` are searched for ``<name>/stack.yaml`` before ``targets/``.
    """

    stacks: tuple[str, ...] = ("tabular",)
    replicas: int = 2
    edge: EdgeOptions = field(default_factory=EdgeOptions)
    stack_dirs: tuple[Path, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)  # templates see it as `settings`


@dataclass(frozen=True)
class Member:
    """One running unit of a stack component (a process group locally, a pod on kind)."""

    name: str
    region: str
    stack: str
    component: str
    address: str
    port: int  # the component's first port
    pid: int | None
    state: MemberState
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"


@dataclass(frozen=True)
class ToxicSpec:
    """A Toxiproxy toxic: ``type`` latency, bandwidth, slow_close, timeout, reset_peer, ..."""

    name: str
    type: str
    stream: Literal["upstream", "downstream"] = "downstream"
    attributes: dict[str, Any] = field(default_factory=dict)
    toxicity: float = 1.0


@runtime_checkable
class Platform(Protocol):
    name: str

    def up(self, request: StackRequest, *, progress: Progress,
           tie_to_caller: bool = False) -> None:
        """Stand ``request`` up. ``tie_to_caller``: the platform tears itself down by itself
        when the calling process dies (a run that owned the platform and was SIGKILLed)."""
        ...

    def experiment_configuration(self) -> dict[str, str]:
        """The Chaos Toolkit configuration keys through which a provider finds this platform
        (``gameday_platform``, ``gameday_home``): the home is resolved once, here."""
        ...

    def down(self, *, progress: Progress) -> list[str]: ...

    def is_up(self) -> bool: ...

    def check_prerequisites(self) -> None:
        """What this host must have for the platform to act (binaries, a daemon, artefacts
        ``make setup`` builds), checked before a run makes its folder: raises a GamedayError
        that names what to install."""
        ...

    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]: ...

    def edge_url(self, stack: str, entry: EdgeEntry = "edge") -> str:
        """The URL a client sends the stack's requests to, at one entry of the edge."""
        ...

    def reset_faults(self) -> list[str]:
        """Undo every fault in force, whoever injected it; what was undone, one line each."""
        ...


@runtime_checkable
class FaultView(Platform, Protocol):
    def faults_in_force(self) -> list[str]:
        """One line per fault in force: its kind, target and owner."""
        ...


@runtime_checkable
class RegionControl(Platform, Protocol):
    """Outages of a whole region or of one member; the platform keeps them down until restored.
    ``stop_region`` returns once every member of the region is verified down (or frozen)."""

    def stop_region(self, region: str, *, freeze: bool) -> list[Member]: ...

    def restore_region(self, region: str) -> list[Member]: ...

    def stop_members(self, names: list[str], *, freeze: bool) -> list[Member]:
        """Like ``stop_region`` for the named members only (a database node's host)."""
        ...

    def restore_members(self, names: list[str]) -> list[Member]: ...

    def kill_member(self, name: str) -> Member:
        """SIGKILL one member's process group; returns once its exit was seen."""
        ...


@runtime_checkable
class LinkControl(Platform, Protocol):
    """Toxiproxy-API fault proxy on every cross-region link (edge → member, and the stack's
    declared links such as replication)."""

    def proxy_api_url(self) -> str: ...

    def link_proxies(self, region: str, stack: str | None = None) -> list[str]: ...

    def add_link_toxic(self, region: str, toxic: ToxicSpec, *, stack: str | None = None,
                       link: str | None = None) -> dict[str, Any]:
        """The toxic on every link into ``region`` (of ``stack``; named ``link``: "edge",
        "replication"), verified (latency: by timing)."""
        ...

    def remove_link_toxic(self, region: str, name: str, *, stack: str | None = None) -> int: ...


@runtime_checkable
class NetworkControl(Platform, Protocol):
    """Kernel-level isolation of a region's address block."""

    def isolation_available(self) -> tuple[bool, str]: ...

    def isolate_region(self, region: str, direction: Direction) -> dict[str, object]:
        """Cut the region off; verified by real connects from both sides of the cut."""
        ...

    def heal_region(self, region: str) -> dict[str, object]: ...

    def cut_from_peers(self, stack: str, component: str, region: str) -> dict[str, object]:
        """Cut ``region``'s member of a quorum component (an etcd member, and what runs as its
        region's user beside it) off from the component's other members."""
        ...

    def heal_peers(self, stack: str, component: str) -> dict[str, object]: ...


@runtime_checkable
class ModelControl(Platform, Protocol):
    """Hot-load a model into a region's members of a stack (a bad deploy), and restore it."""

    def break_model(self, region: str, stack: str, model_uri: str) -> dict[str, Any]:
        """Verified: the stack's probe request fails on every member."""
        ...

    def restore_model(self, region: str, stack: str) -> dict[str, Any]: ...


@runtime_checkable
class ReleaseControl(Platform, Protocol):
    """A model release on a stack served from a model registry (canary, blue-green, rollback):
    move registry aliases, load versions into chosen members, set each member's weight at the
    edge. ``begin_release`` records what was there (aliases, each member's model, the weights);
    ``end_release`` — or any rollback of the platform's faults — puts all of it back. Each
    step is verified (the member names the version; HAProxy reports the weight)."""

    def begin_release(self, stack: str) -> dict[str, Any]: ...

    def release_before(self, stack: str) -> dict[str, Any] | None:
        """What the release in progress found (``versions``, ``weights``, ``aliases``); None
        when none is."""
        ...

    def release_members(self, stack: str) -> list[Member]:
        """The members the edge routes the stack to, primary region first."""
        ...

    def resolve_version(self, stack: str, alias_or_version: str) -> str: ...

    def move_alias(self, stack: str, alias: str, version: str) -> None: ...

    def load_version(self, stack: str, member: str, model_uri: str) -> str:
        """Hot-load ``model_uri`` into ``member``; the version it serves now."""
        ...

    def edge_weights(self, stack: str) -> dict[str, int]: ...

    def set_edge_weights(self, stack: str, weights: dict[str, int]) -> dict[str, int]:
        """Every named server's weight at once; the weights HAProxy reports afterwards."""
        ...

    def end_release(self, stack: str) -> list[str]: ...


@runtime_checkable
class ModelRepositoryControl(Platform, Protocol):
    """A serving engine's model repository (Triton's, KServe v2): unload a region's model (a
    bad deploy), load another version (a hot-swap, or a broken release that fails to load),
    stall its backend while health stays green; ``restore_serving`` undoes any of them. Each
    is verified in effect on every member before it returns."""

    def unload_model(self, region: str, stack: str) -> dict[str, Any]: ...

    def load_model_version(self, region: str, stack: str, version: int) -> dict[str, Any]: ...

    def stall_backend(self, region: str, stack: str) -> dict[str, Any]: ...

    def restore_serving(self, region: str, stack: str) -> dict[str, Any]: ...


@runtime_checkable
class ScaleControl(Platform, Protocol):
    """Add or remove members of a component while it serves; the edge follows (new members
    take traffic once healthy, removed ones are drained first) and link faults reach them."""

    def scale(self, stack: str, component: str, region: str, members: int) -> list[Member]: ...


@runtime_checkable
class MetricsSource(Platform, Protocol):
    """A Prometheus server scraping every member of the platform (labels ``stack``,
    ``region``, ``component``, ``replica``): its base URL, None when none runs."""

    def prometheus_url(self) -> str | None: ...


@dataclass(frozen=True)
class HpaState:
    """One HorizontalPodAutoscaler's status as its controller reports it."""

    stack: str
    component: str
    region: str
    current_replicas: int
    desired_replicas: int
    ready_replicas: int  # of the workload it scales
    current_cpu_percent: int | None  # its cpu metric's averageUtilization; None: unknown
    target_cpu_percent: int | None


@runtime_checkable
class HpaObserver(Platform, Protocol):
    """A platform whose autoscaling is Kubernetes' own HPA (kind): each region's HPAs, and a
    suite's settings applied to them for a run."""

    def hpa_states(self, region: str) -> list[HpaState]: ...

    def set_hpa(self, stack: str, component: str, region: str, spec: dict[str, Any]) -> str:
        """Give the component's HPA ``spec`` (autoscaling/v2 fields: minReplicas, maxReplicas,
        metrics, behavior) until ``restore_hpa``; what changed."""
        ...

    def restore_hpa(self, stack: str, component: str, region: str) -> str | None: ...


@runtime_checkable
class EdgeObserver(Platform, Protocol):
    """The global edge's own view of every server behind it (health and admin state)."""

    def edge_server_states(self) -> list[EdgeServerSample]: ...


@runtime_checkable
class WafLog(Platform, Protocol):
    """The edge WAF's log: every transaction a rule matched since ``since_s`` (epoch s), as
    the run folder's ``waf.jsonl`` lines (gameday.records: WAF_FILE)."""

    def waf_entries(self, since_s: float) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class DbNode:
    """One PostgreSQL node of a stack, as a client reaches it directly (not through a proxy)."""

    name: str
    region: str
    host: str
    port: int
    patroni_url: str | None = None  # Patroni's REST API; None when Patroni does not run
    socket_dir: str | None = None  # unix socket: the harness's out-of-band way in


@dataclass(frozen=True)
class DatabaseInfo:
    """Where a stack's database is and who fails it over."""

    stack: str
    failover: Literal["patroni", "promote"]
    dbname: str
    user: str
    nodes: tuple[DbNode, ...]

    def dsn(self, *, connect_timeout_s: int = 2, application_name: str = "gameday") -> str:
        """The libpq multi-host string clients use: it finds whichever node is writable."""
        hosts = ",".join(n.host for n in self.nodes)
        ports = ",".join(str(n.port) for n in self.nodes)
        return (f"host={hosts} port={ports} dbname={self.dbname} user={self.user} "
                f"target_session_attrs=read-write connect_timeout={connect_timeout_s} "
                f"application_name={application_name}")

    def node_dsn(self, name: str, *, connect_timeout_s: int = 1,
                 application_name: str = "gameday") -> str:
        """One node, out of band where it can be (its unix socket): the harness's probes and
        audit see a node that a network partition cut off from its clients."""
        node = self.node(name)
        host = node.socket_dir or node.host
        return (f"host={host} port={node.port} dbname={self.dbname} user={self.user} "
                f"connect_timeout={connect_timeout_s} application_name={application_name}")

    def node(self, name: str) -> DbNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no database node {name!r}; have {[n.name for n in self.nodes]}")


@runtime_checkable
class DatabaseAccess(Platform, Protocol):
    """A stack's PostgreSQL nodes, for the writer, the role probe and the audit."""

    def database(self, stack: str) -> DatabaseInfo: ...

    def kill_postmaster(self, stack: str, node: str) -> int:
        """SIGKILL the node's postmaster alone (whatever manages it stays): its pid."""
        ...

    def fill_disk(self, node: str) -> dict[str, Any]:
        """Fill the node's size-capped data volume (the suite's ``database.disk_mb``)."""
        ...

    def free_disks(self) -> list[str]: ...


@runtime_checkable
class InputDriftControl(Platform, Protocol):
    """A shifted client population: real requests whose inputs are the stack's training rows
    with ``shift`` applied (``gameday.platforms.shift``), sent open loop at ``rate_per_s`` to
    each member of a region that declares ``drift``, by a side process that keeps its own
    deadline; verified once every member answers them. ``restore_inputs`` stops it."""

    def shift_inputs(self, region: str, stack: str, shift: InputShift, *,
                     rate_per_s: float = 100.0, seed: int = 7,
                     max_duration_s: float = 300.0) -> dict[str, Any]: ...

    def restore_inputs(self, region: str, stack: str) -> dict[str, Any]: ...


@runtime_checkable
class ServingLoadControl(Platform, Protocol):
    """Load put on a region's serving engine from beside it, each by a side process that keeps
    its own deadline: a burst of concurrent inference requests filling its servers' queues,
    and a GPU's free memory taken away. ``stop_serving_load`` undoes either: the side process
    stopped, the servers answering quickly again. Each is verified in effect first."""

    def burst_queue(self, region: str, stack: str, *, concurrency: int = 64, rows: int = 1,
                    max_duration_s: float = 300.0) -> dict[str, Any]:
        """``concurrency`` requests in flight to each server of the region (``rows`` rows a
        request), until undone or ``max_duration_s``."""
        ...

    def exhaust_gpu_memory(self, region: str, stack: str, *, fraction: float = 0.95,
                           device: int = 0, max_duration_s: float = 300.0) -> dict[str, Any]:
        """Hold ``fraction`` of GPU ``device``'s free memory until undone or
        ``max_duration_s``; refused (FaultError) where there is no GPU driver."""
        ...

    def stop_serving_load(self, region: str, stack: str) -> dict[str, Any]: ...
