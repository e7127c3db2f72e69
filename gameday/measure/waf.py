"""The edge WAF's verdicts on the labelled requests, per attack class, and the latency the WAF
adds, from one run's request records and the WAF's own log (``waf_log``).

Verdicts. Each labelled request gets one, the first that applies:

- ``by_waf``: the WAF refused it (X-Edge-Waf ``blocked``, a 403);
- ``refused``: nginx refused it as malformed (X-Edge-Waf ``refused``, a 400);
- ``body_limit``: a 413 the edge sent itself (X-Edge-Waf set, no region named: a stack's own
  413 passed the edge): over ``edge.max_body_bytes``;
- ``rate_limited``: a 429 that passed nginx: over the per-client rate (no verdict);
- ``no_answer``: no X-Edge-Waf, no edge answered (refused connection, timeout; no verdict);
- ``by_service``: it passed the edge and the service's guard refused it (``guard:<rule>``);
- ``passed``: it passed the edge and the service.

blocked (at the edge) = by_waf + refused + body_limit; judged = blocked + by_service + passed.
An attack class's blocked are true positives and its passed false negatives; benign's blocked
are false positives and its passed true negatives (stopped by the service: neither, apart).
blocked rate = blocked / judged (attacks: the edge's detection rate; benign: its false-positive
rate); stopped rate = (blocked + by_service) / judged. None where nothing was judged.

Detection-only (the suite's ``edge.waf.mode`` is detection, or a labelled answer says so):
nothing is blocked. A class's log entries that would have blocked (``WafEntry.would_block``)
are counted ``by_waf``, taken from its passed requests first, then from those the service
stopped (a blocking WAF would have stopped them first), never more than there are.

Top rules: per class, the CRS rules that matched in most of its log entries, the anomaly
evaluation and correlation rules (949xxx, 959xxx, 980xxx) left out: they say a score was
reached, not what matched, and an exclusion is written against the rule that matched.

WAF latency: per stack and endpoint, the ok unlabelled answers after the warm-up; with the
WAF: X-Edge-Waf blocking or detection; without: off (the ``edge-no-waf`` entry: the same nginx
without ModSecurity or cache). p50/p90/p99 nearest rank from the scheduled send, of the
answers the edge cache did not serve (the other entry has no cache: a hit would be the
cache's speed, not the WAF's cost); rate = the side's answers, hits included, per second over
the span of their scheduled sends; added = with - without, None when either side has none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.measure.arrays import BoolArray, RequestArrays, percentile
from gameday.measure.waf_log import CACHE_SERVED, EdgeRequests, WafEntry, values_in
from gameday.records import CACHE_REGION

__all__ = ["ATTACK_CLASSES", "BENIGN", "TOP_RULES", "ClassVerdicts", "LatencySide",
           "RuleCount", "WafLatency", "WafVerdicts", "waf_latency", "waf_verdicts"]

BENIGN = "benign"
ATTACK_CLASSES = ("sqli", "xss", "traversal", "oversized", "prompt-injection")
TOP_RULES = 5
_WITH_WAF = ("blocking", "detection")
_EVALUATION_RULE_GROUPS = (949, 959, 980)  # CRS's blocking evaluation and correlation


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: int  # CRS rule id
    entries: int  # log entries it matched in


@dataclass(frozen=True, slots=True)
class ClassVerdicts:
    """The verdicts on one labelled class (module docstring). The confusion counts are None
    where they do not apply: an attack has no false positives, benign no true positives."""

    label: str
    attack: bool
    sent: int
    blocked: int
    by_waf: int
    refused: int
    body_limit: int
    by_service: int
    passed: int
    rate_limited: int
    no_answer: int
    judged: int
    blocked_rate: float | None
    stopped_rate: float | None
    true_positives: int | None
    false_negatives: int | None
    false_positives: int | None
    true_negatives: int | None
    log_entries: int  # waf.jsonl entries with this label
    would_block_entries: int  # of those, the ones that blocked or would have
    top_rules: tuple[RuleCount, ...]


@dataclass(frozen=True, slots=True)
class WafVerdicts:
    """Every class's verdicts and the run's totals. ``counted_as``: how the verdicts were
    counted (blocking, or detection from the WAF log; off: the WAF was off). Ordinary
    (unlabelled) load the WAF refused, and what its log says about it, are kept apart."""

    counted_as: str
    threshold: int
    classes: tuple[ClassVerdicts, ...]
    attacks_judged: int
    attacks_blocked: int
    attacks_stopped: int
    attack_blocked_rate: float | None
    attack_stopped_rate: float | None
    false_positive_rate: float | None  # benign's blocked rate; None: no benign judged
    unlabelled_blocked: int
    unlabelled_log_entries: int
    unlabelled_top_rules: tuple[RuleCount, ...]

    def of(self, label: str) -> ClassVerdicts | None:
        return next((c for c in self.classes if c.label == label), None)


def waf_verdicts(requests: EdgeRequests, entries: Sequence[WafEntry] | None, *, mode: str,
                 threshold: int) -> WafVerdicts | None:
    """The WAF's verdicts (module docstring); ``mode`` and ``threshold``: the suite's
    ``edge.waf.mode`` and ``inbound_anomaly_threshold``. None when the run has neither a
    labelled request nor a WAF log entry."""
    log = tuple(entries or ())
    labelled = requests.select(requests.labelled)
    if not len(labelled) and not log:
        return None
    detection = mode == "detection" or bool(np.any(labelled.waf == "detection"))
    labels = _ordered({str(label) for label in np.unique(labelled.label)}
                      | {entry.label for entry in log if entry.label})
    classes = tuple(_class(label, labelled.select(labelled.label == label),
                           [e for e in log if e.label == label], detection, threshold)
                    for label in labels)
    attacks = [c for c in classes if c.attack]
    judged = sum(c.judged for c in attacks)
    blocked = sum(c.blocked for c in attacks)
    stopped = blocked + sum(c.by_service for c in attacks)
    benign = next((c for c in classes if c.label == BENIGN), None)
    unlabelled = [e for e in log if not e.label]
    return WafVerdicts(
        counted_as="detection" if detection else mode, threshold=threshold, classes=classes,
        attacks_judged=judged, attacks_blocked=blocked, attacks_stopped=stopped,
        attack_blocked_rate=_share(blocked, judged), attack_stopped_rate=_share(stopped, judged),
        false_positive_rate=None if benign is None else benign.blocked_rate,
        unlabelled_blocked=int(np.count_nonzero(~requests.labelled
                                                & (requests.waf == "blocked"))),
        unlabelled_log_entries=len(unlabelled), unlabelled_top_rules=_top_rules(unlabelled))


def _ordered(labels: set[str]) -> list[str]:
    known = [label for label in (BENIGN, *ATTACK_CLASSES) if label in labels]
    return known + sorted(labels - set(known))


def _class(label: str, part: EdgeRequests, entries: Sequence[WafEntry], detection: bool,
           threshold: int) -> ClassVerdicts:
    status, waf = part.requests.status, part.waf
    answered = waf != ""
    by_waf, refused = waf == "blocked", waf == "refused"
    rest = answered & ~by_waf & ~refused
    body_limit = rest & (status == 413) & (part.requests.region == "")
    rate_limited = rest & (status == 429)
    through = rest & ~body_limit & ~rate_limited
    guarded = through & np.char.startswith(part.policy, "guard:")
    counts = {name: int(np.count_nonzero(mask)) for name, mask in (
        ("by_waf", by_waf), ("refused", refused), ("body_limit", body_limit),
        ("rate_limited", rate_limited), ("by_service", guarded),
        ("passed", through & ~guarded), ("no_answer", ~answered))}
    would = sum(1 for entry in entries if entry.would_block(threshold))
    if detection:  # nothing was refused: the log says what would have been
        from_passed = min(would, counts["passed"])
        from_service = min(would - from_passed, counts["by_service"])
        counts["by_waf"] += from_passed + from_service
        counts["passed"] -= from_passed
        counts["by_service"] -= from_service
    blocked = counts["by_waf"] + counts["refused"] + counts["body_limit"]
    judged = blocked + counts["by_service"] + counts["passed"]
    attack = label != BENIGN
    return ClassVerdicts(
        label=label, attack=attack, sent=len(part), blocked=blocked, **counts, judged=judged,
        blocked_rate=_share(blocked, judged),
        stopped_rate=_share(blocked + counts["by_service"], judged),
        true_positives=blocked if attack else None,
        false_negatives=counts["passed"] if attack else None,
        false_positives=None if attack else blocked,
        true_negatives=None if attack else counts["passed"],
        log_entries=len(entries), would_block_entries=would, top_rules=_top_rules(entries))


def _top_rules(entries: Sequence[WafEntry]) -> tuple[RuleCount, ...]:
    counts = Counter(rule for entry in entries for rule in set(entry.rules)
                     if rule // 1000 not in _EVALUATION_RULE_GROUPS)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_RULES]
    return tuple(RuleCount(rule, count) for rule, count in ranked)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class LatencySide:
    requests: int  # the answers timed (the cache's hits left out)
    p50_s: float | None
    p90_s: float | None
    p99_s: float | None
    rate_per_s: float | None  # every ok answer of the side; None: no span to divide by


@dataclass(frozen=True, slots=True)
class WafLatency:
    """One stack endpoint with and without the WAF (module docstring)."""

    stack: str
    endpoint: str
    with_waf: LatencySide | None
    without_waf: LatencySide | None
    added_p50_s: float | None
    added_p90_s: float | None
    added_p99_s: float | None
    rate_change_per_s: float | None  # with - without


def waf_latency(requests: EdgeRequests, *, warmup_end_s: float | None
                ) -> tuple[WafLatency, ...]:
    """Per stack and endpoint that has either side, in name order (module docstring)."""
    arrays = requests.requests
    base = arrays.ok & ~requests.labelled
    if warmup_end_s is not None:
        base &= arrays.scheduled_s >= warmup_end_s
    fetched = ~values_in(requests.edge_cache, CACHE_SERVED) & (arrays.region != CACHE_REGION)
    with_waf = base & values_in(requests.waf, _WITH_WAF)
    without = base & (requests.waf == "off")
    either = with_waf | without
    figures = []
    for stack in np.unique(requests.stack[either]):
        for endpoint in np.unique(requests.endpoint[either & (requests.stack == stack)]):
            here = (requests.stack == stack) & (requests.endpoint == endpoint)
            figures.append(_comparison(
                str(stack), str(endpoint), _side(arrays, here & with_waf, fetched),
                _side(arrays, here & without, fetched)))
    return tuple(figures)


def _side(arrays: RequestArrays, side: BoolArray, fetched: BoolArray) -> LatencySide | None:
    timed = arrays.latency_s[side & fetched]
    if not timed.size:
        return None
    scheduled_s = arrays.scheduled_s[side]
    span_s = float(scheduled_s.max() - scheduled_s.min())
    return LatencySide(int(timed.size), percentile(timed, 50), percentile(timed, 90),
                       percentile(timed, 99),
                       scheduled_s.size / span_s if span_s > 0 else None)


def _comparison(stack: str, endpoint: str, with_waf: LatencySide | None,
                without: LatencySide | None) -> WafLatency:
    def added(name: str) -> float | None:
        if with_waf is None or without is None:
            return None
        a, b = getattr(with_waf, name), getattr(without, name)
        return None if a is None or b is None else float(a - b)

    return WafLatency(stack, endpoint, with_waf, without, added("p50_s"), added("p90_s"),
                      added("p99_s"), added("rate_per_s"))
