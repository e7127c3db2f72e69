"""The blast radius of a run: every address and kube context it would touch, planned from the
suite alone (the suite's fields, each experiment after its scenario's configuration, the local
platform's address plan), and the check that each is loopback or an allow-listed kube context.

Nothing here starts a process, opens a socket or resolves a name: an address is a string to
check. A host name other than ``localhost`` is refused (it could resolve anywhere).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from chaoslib import substitute
from chaoslib.configuration import load_configuration
from chaoslib.exceptions import ChaosException
from chaoslib.types import Experiment

from gameday.config import REGIONS, LoadProfile, Scenario, Suite, resolve_experiment
from gameday.errors import ConfigError
from gameday.load.plan import is_loopback_host
from gameday.platforms import DEFAULT_HOME
from gameday.platforms.base import StackRequest
from gameday.platforms.local.topology import Topology, build_topology

__all__ = ["KIND_CONTEXTS", "LOOPBACK", "PLAN_SOURCE", "Activity", "RunPlan", "ScenarioPlan",
           "Target", "check_blast_radius", "check_kube_context", "plan_run", "targets_of"]

LOOPBACK = "127.0.0.0/8, ::1 or localhost"
KIND_CONTEXTS = tuple(f"kind-{region}" for region in REGIONS)  # the kind platform's clusters
PLAN_SOURCE = "the local platform's address plan"
_REPO = Path(__file__).resolve().parents[1]

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s,;'\"<>]+", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")
# host:port as a whole value; a bare single-label host (an image tag "postgres:16") is not one
_HOST_PORT = re.compile(r"^(\[[0-9a-f:.%]+\]|localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}$",
                        re.IGNORECASE)
_HOST_NAME = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?(?::\d{1,5})?$", re.IGNORECASE)
_LIBPQ_HOST = re.compile(r"\bhost(?:addr)?=([^\s'\"]+)", re.IGNORECASE)  # a keyword DSN
_ADDRESS_KEY = re.compile(r"(?:^|_)(?:url|uri|urls|host|hosts|hostname|address|addr|server|dsn)$",
                          re.IGNORECASE)
_KUBE_SECRET = "KUBERNETES_CONTEXT"  # what chaostoolkit-kubernetes reads from its secrets
_CONTEXT_KEY = re.compile(r"(?:^|_)(?:kube|kubernetes)_?context$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """One address (or kube context) a run would touch: ``host`` is what is checked, ``shown``
    the text it was found in (a URL, a DSN), ``source`` and ``field`` where it is written."""

    source: str | None
    field: str
    shown: str
    host: str
    kind: Literal["address", "kube-context"] = "address"


@dataclass(frozen=True)
class Activity:
    """One activity as chaoslib will run it: provider and pauses after the configuration."""

    field: str  # where it is in the experiment: method.0, rollbacks.1, ...
    type: str  # probe, action, or ref (an activity declared elsewhere in the experiment)
    name: str
    provider: dict[str, Any]
    pauses: dict[str, Any]


@dataclass(frozen=True)
class ScenarioPlan:
    """A scenario's experiment as it would run: the configuration chaoslib will see (the
    experiment's own, the platform's keys and the scenario's ``configuration`` over it)."""

    scenario: Scenario
    index: int  # its place in the suite's scenarios
    path: Path
    title: str
    configuration: dict[str, Any]
    hypothesis: tuple[Activity, ...]
    method: tuple[Activity, ...]
    rollbacks: tuple[Activity, ...]
    experiment: Experiment  # as written (its secrets and controls are checked as written)


@dataclass(frozen=True)
class RunPlan:
    """What a run of ``suite`` would start and touch; ``topology`` only on the local platform
    (the kind platform's addresses are known once its clusters exist)."""

    suite: Suite
    home: Path
    scenarios: tuple[ScenarioPlan, ...]
    topology: Topology | None

    def load_url(self, load: LoadProfile) -> str | None:
        """The edge URL a load is sent to; None for a database load (the platform gives its
        primary's DSN once up) or without an address plan."""
        if self.topology is None or load.target == "database":
            return None
        entry: Literal["edge", "edge-no-waf"] = "edge-no-waf" \
            if load.target == "edge-no-waf" else "edge"
        return self.topology.edge_entry_url(load.stack, entry)


def plan_run(suite: Suite, experiments: Mapping[str, Experiment], *,
             home: Path = DEFAULT_HOME) -> RunPlan:
    scenarios = tuple(_plan_scenario(suite, index, scenario, experiments[scenario.name], home)
                      for index, scenario in enumerate(suite.scenarios))
    topology = _local_topology(suite, home) if suite.platform == "local" else None
    return RunPlan(suite=suite, home=home, scenarios=scenarios, topology=topology)


def check_blast_radius(plan: RunPlan) -> None:
    """ConfigError naming the file and field of the first target that is not loopback (or, for
    a kube context, neither the kind platform's own nor in ``blast_radius.kube_contexts``)."""
    suite = plan.suite
    for target in targets_of(plan):
        if target.kind == "kube-context":
            if suite.platform == "local":
                raise ConfigError(f"kube context {target.host!r}: the local platform acts on "
                                  "no cluster (kube contexts are for platform: kind)",
                                  source=target.source, field=target.field)
            check_kube_context(suite, target.host, source=target.source, field=target.field)
            continue
        problem = _address_problem(target.host, suite.platform)
        if problem is not None:
            shown = f"{target.shown}: " if target.shown != target.host else ""
            raise ConfigError(shown + problem, source=target.source, field=target.field)
    for scenario in plan.scenarios:
        _check_cluster_activities(scenario)


def _check_cluster_activities(plan: ScenarioPlan) -> None:
    """A chaostoolkit-kubernetes activity acts on the context its secrets name, else on
    ``$KUBERNETES_CONTEXT`` or the kubeconfig's current one, which no plan can see: it must
    name one, as text, in a secrets scope it lists (the targets check then judges it)."""
    secrets = plan.experiment.get("secrets") or {}
    for activity in (*plan.hypothesis, *plan.method, *plan.rollbacks):
        provider = activity.provider
        if provider.get("type") != "python" \
                or not str(provider.get("module", "")).startswith("chaosk8s"):
            continue
        scopes = provider.get("secrets") or []
        named = [(secrets.get(scope) or {}).get(_KUBE_SECRET) for scope in scopes
                 if isinstance(scope, str)]
        if not any(isinstance(context, str) and context.strip() for context in named):
            raise ConfigError(
                f"a chaostoolkit-kubernetes activity that names no {_KUBE_SECRET} (as text, in "
                "a secrets scope its provider lists) acts on whatever $KUBERNETES_CONTEXT or "
                "the kubeconfig's current context is: name one of the platform's contexts",
                source=f"{plan.path} (scenario {plan.scenario.name})",
                field=f"{activity.field}.provider.secrets")


def check_kube_context(suite: Suite, context: str, *, source: str | None = None,
                       field: str = "kube context") -> None:
    """A kube context a kind run may act on: its own clusters' or one the suite allow-lists."""
    allowed = suite.blast_radius.kube_contexts
    if context in KIND_CONTEXTS or context in allowed:
        return
    raise ConfigError(f"kube context {context!r} is neither the kind platform's own "
                      f"({', '.join(KIND_CONTEXTS)}) nor in blast_radius.kube_contexts "
                      f"({', '.join(allowed) or 'none listed'}): gameday acts only on the "
                      "clusters a suite names", source=source or _source(suite), field=field)


def targets_of(plan: RunPlan) -> Iterator[Target]:
    """Every address and kube context of the plan, the suite's own first."""
    suite, source = plan.suite, _source(plan.suite)
    yield from _targets_in(source, "rag.openai_base_url", suite.rag.openai_base_url,
                           "openai_base_url")
    for scenario in plan.scenarios:
        yield from _targets_in(source, f"scenarios.{scenario.index}.configuration",
                               scenario.scenario.configuration)
    for scenario in plan.scenarios:
        yield from _experiment_targets(scenario)
    if plan.topology is not None:
        yield from _platform_targets(plan.topology)


def _source(suite: Suite) -> str | None:
    return str(suite.source) if suite.source else None


def _address_problem(host: str, platform: str) -> str | None:
    if "${" in host:
        return ("names a configuration value the experiment does not give, so it cannot be "
                "checked before the run: give it in the experiment's or scenario's "
                "configuration")
    if is_loopback_host(host.lower()):
        return None
    why = ("gameday only sends traffic and faults to loopback on the local platform"
           if platform == "local" else "gameday only sends traffic to loopback; a cluster is "
           "reached by its kube context (blast_radius.kube_contexts)")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return (f"{host} is a host name, not a loopback address ({LOOPBACK}): gameday does not "
                f"resolve names (one could resolve anywhere); {why}")
    return f"{host} is not a loopback address ({LOOPBACK}): {why}"


def _experiment_targets(plan: ScenarioPlan) -> Iterator[Target]:
    source = f"{plan.path} (scenario {plan.scenario.name})"
    yield from _targets_in(source, "configuration", plan.configuration)
    yield from _targets_in(source, "secrets", plan.experiment.get("secrets") or {})
    for activity in (*plan.hypothesis, *plan.method, *plan.rollbacks):
        yield from _targets_in(source, f"{activity.field}.provider", activity.provider)
    for index, control in enumerate(plan.experiment.get("controls") or []):
        yield from _targets_in(source, f"controls.{index}.provider",
                               control.get("provider") or {})


def _platform_targets(topology: Topology) -> Iterator[Target]:
    """The plan's members, their commands, environments and config files, the fault proxy's
    links and the edge's URLs: loopback by construction, checked so a stack cannot widen it."""
    for spec in topology.processes:
        yield from _targets_in(PLAN_SOURCE, f"{spec.name}.address", spec.address, "address")
        yield from _targets_in(PLAN_SOURCE, f"{spec.name}.argv", list(spec.argv))
        yield from _targets_in(PLAN_SOURCE, f"{spec.name}.env", spec.env)
        for file in spec.files:
            yield from _targets_in(PLAN_SOURCE, f"{spec.name}.files.{file.path}", file.text)
    for link in topology.links:
        yield from _targets_in(PLAN_SOURCE, f"links.{link.proxy}",
                               {"listen_address": link.listen, "upstream_address": link.upstream})
    yield from _targets_in(PLAN_SOURCE, "edge_urls", topology.edge_urls)


def _targets_in(source: str | None, field: str, value: object,
                key: str = "") -> Iterator[Target]:
    """Every target in a value, walked as JSON; a list item after a ``--flag`` is keyed by the
    flag (``--host example.com``), a ``--flag=value`` by its flag."""
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from _targets_in(source, f"{field}.{name}", item, str(name))
    elif isinstance(value, list | tuple):
        previous = ""
        for index, item in enumerate(value):
            yield from _targets_in(source, f"{field}.{index}", item,
                                   _flag_key(previous) or key)
            previous = item if isinstance(item, str) else ""
    elif isinstance(value, str):
        text = value
        if value.startswith("-") and "=" in value:
            flag, _, text = value.partition("=")
            key = _flag_key(flag)
        if _CONTEXT_KEY.search(key) and text.strip():
            yield Target(source, field, text, text.strip(), kind="kube-context")
            return
        for shown, host in _hosts_in(key, text):
            yield Target(source, field, shown, host)


def _flag_key(token: str) -> str:
    if not token.startswith("-") or len(token) < 2:
        return ""
    name = token.lstrip("-").replace("-", "_")
    return "kube_context" if name == "context" else name  # kubectl --context


def _hosts_in(key: str, text: str) -> list[tuple[str, str]]:
    """(text shown, host) for each address a string names: the whole string as an IP literal
    or host:port, URLs in it, a keyword DSN's hosts, IPv4 literals; under an address key
    (``url``, ``host``, ...) a value shaped like a host name is one (``models:/x`` is not)."""
    stripped = text.strip()
    if not stripped:
        return []
    whole = _whole_host(stripped)
    if whole is not None:
        return [(stripped, whole)]
    found = [(url, _url_host(url)) for url in _URL.findall(stripped)]
    found += [(f"host={host}", host) for match in _LIBPQ_HOST.finditer(stripped)
              for host in match[1].split(",") if host]
    found += [(ip, ip) for ip in _IPV4.findall(_URL.sub(" ", _LIBPQ_HOST.sub(" ", stripped)))]
    found = [(shown, host) for shown, host in found if host]  # sqlite:///x names no host
    if not found and _ADDRESS_KEY.search(key) and _HOST_NAME.match(stripped):
        found = [(stripped, stripped.rsplit(":", 1)[0])]
    return list(dict.fromkeys(found))


def _whole_host(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.removeprefix("[").removesuffix("]")))
    except ValueError:
        pass
    match = _HOST_PORT.match(text)
    return match[1].removeprefix("[").removesuffix("]") if match else None


def _url_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed [IPv6] part: refused as it is written
        return url


def _plan_scenario(suite: Suite, index: int, scenario: Scenario, experiment: Experiment,
                   home: Path) -> ScenarioPlan:
    path = resolve_experiment(suite, scenario)
    # what the run passes (gameday.run): the platform's keys, the region, then the scenario's
    given = {"gameday_platform": suite.platform, "gameday_home": str(home),
             "gameday_region": scenario.target_region, **scenario.configuration}
    try:
        # chaoslib's own resolution, environment included: what the run's chaoslib will see
        configuration = load_configuration(experiment.get("configuration") or {}, given)
    except (ChaosException, ValueError, TypeError) as exc:
        raise ConfigError(f"configuration: {exc}", source=str(path)) from None
    hypothesis = (experiment.get("steady-state-hypothesis") or {}).get("probes") or []
    return ScenarioPlan(
        scenario=scenario, index=index, path=path, title=str(experiment.get("title", "")),
        configuration=configuration,
        hypothesis=_activities("steady-state-hypothesis.probes", hypothesis, configuration),
        method=_activities("method", experiment.get("method") or [], configuration),
        rollbacks=_activities("rollbacks", experiment.get("rollbacks") or [], configuration),
        experiment=experiment)


def _activities(field: str, activities: Iterable[Any],
                configuration: dict[str, Any]) -> tuple[Activity, ...]:
    planned = []
    for index, activity in enumerate(activities):
        if "ref" in activity:
            planned.append(Activity(f"{field}.{index}", "ref", str(activity["ref"]), {}, {}))
            continue
        provider = dict(substitute(activity.get("provider") or {}, configuration, {}))
        arguments = provider.get("arguments")
        if provider.get("type") == "process" and isinstance(arguments, str):
            provider["arguments"] = _split(arguments)  # as the process will get them
        planned.append(Activity(
            f"{field}.{index}", str(activity.get("type", "")), str(activity.get("name", "")),
            provider, dict(substitute(activity.get("pauses") or {}, configuration, {}))))
    return tuple(planned)


def _split(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:  # unbalanced quotes: chaoslib would pass it on as it is
        return command.split()


def _local_topology(suite: Suite, home: Path) -> Topology:
    """The local platform's layout for the suite, computed as ``up`` computes it. The binaries
    are looked up at stand-up; the addresses do not depend on them, nor on the GPU (``auto``
    would ask nvidia-smi, a process: planned as cpu)."""
    if suite.triton.device == "auto":
        suite = suite.model_copy(update={"triton": suite.triton.model_copy(
            update={"device": "cpu"})})
    request = StackRequest(stacks=tuple(suite.stacks), replicas=suite.replicas,
                           edge=suite.edge, settings=suite.stack_settings())
    return build_topology(request, home=home, repo=_REPO, artifacts=_REPO / "artifacts",
                          haproxy="haproxy", prometheus="prometheus")
