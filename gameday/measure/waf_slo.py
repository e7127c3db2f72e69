"""Judge a ``waf`` SLO on the run's WAF verdicts (``gameday.measure.waf``).

measured = the blocked rate of the SLO's attack class (``all``: every attack class's
requests together): blocked at the edge / judged, or with ``count: stopped`` (blocked at the
edge + stopped by the service's guard) / judged; the false-positive rate = benign's blocked
rate. It passes when measured >= ``min_blocked_rate`` and the false-positive rate <=
``max_false_positive_rate``. A figure that cannot be measured (no labelled request of the
class, no benign request while false positives are bounded) fails the SLO, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gameday.measure.waf import WafVerdicts
from gameday.slos import WafSlo

__all__ = ["WafSloVerdict", "judge_waf_slo"]


@dataclass(frozen=True, slots=True)
class WafSloVerdict:
    measured: float | None
    passed: bool
    message: str
    parts: dict[str, float | None] = field(default_factory=dict)
    measurement_error: str = ""


def judge_waf_slo(slo: WafSlo, verdicts: WafVerdicts | None) -> WafSloVerdict:
    if verdicts is None:
        return _not_measured("the run has no labelled request and no WAF log entry")
    judged, caught = _attacks(slo, verdicts)
    benign = verdicts.of("benign")
    false_positive_rate = None if benign is None else benign.blocked_rate
    parts: dict[str, float | None] = {
        "attacks_judged": judged, "attacks_caught": caught,
        "false_positive_rate": false_positive_rate,
        "benign_judged": None if benign is None else benign.judged,
        "benign_blocked": None if benign is None else benign.blocked,
        "min_blocked_rate": slo.min_blocked_rate,
        "max_false_positive_rate": slo.max_false_positive_rate}
    what = "attack" if slo.attack_class == "all" else slo.attack_class
    if not judged:
        return _not_measured(f"no labelled {what} request was judged", parts)
    if false_positive_rate is None and slo.max_false_positive_rate < 1:
        return _not_measured("no benign request was judged: false positives not measured",
                             parts)
    measured = caught / judged
    fp_ok = false_positive_rate is None or false_positive_rate <= slo.max_false_positive_rate
    passed = measured >= slo.min_blocked_rate and fp_ok
    where = "at the edge" if slo.count == "blocked" else "at the edge or by the service"
    fp = ("not judged" if false_positive_rate is None or benign is None else
          f"{false_positive_rate:.3%} ({benign.blocked} of {benign.judged} benign blocked)")
    return WafSloVerdict(
        measured, passed,
        f"{caught} of {judged} {what} requests stopped {where} ({measured:.3%}; "
        f"{verdicts.counted_as}), false positives {fp}: "
        f"{'meets' if passed else 'misses'} the objective (>= {slo.min_blocked_rate:.3%} "
        f"stopped, <= {slo.max_false_positive_rate:.3%} false positives)", parts)


def _attacks(slo: WafSlo, verdicts: WafVerdicts) -> tuple[int, int]:
    chosen = [c for c in verdicts.classes if c.attack
              and (slo.attack_class == "all" or c.label == slo.attack_class)]
    judged = sum(c.judged for c in chosen)
    caught = sum(c.blocked + (c.by_service if slo.count == "stopped" else 0) for c in chosen)
    return judged, caught


def _not_measured(why: str, parts: dict[str, float | None] | None = None) -> WafSloVerdict:
    return WafSloVerdict(None, False, f"not measured: {why}", parts or {}, why)
