"""Release scenarios measured from their timelines and the request records: time to detect,
time to roll back, harmed requests, a canary's served share, a blue-green switch's failed and
mixed answers."""

from __future__ import annotations

import pytest

from gameday.measure.arrays import RequestArrays
from gameday.measure.release import release_outcomes
from gameday.records import RequestRecord

SLO_S = 0.25


def _record(t_s: float, version: str, *, ok: bool = True, latency_s: float = 0.01,
            region: str = "region-a") -> RequestRecord:
    return RequestRecord(scheduled_s=t_s, start_s=t_s, end_s=t_s + latency_s, stack="tabular",
                         endpoint="predict", region=region, status=200 if ok else 500, ok=ok,
                         error_kind="" if ok else "http_5xx", model_version=version)


def _canary_requests(bad_every: int, until_s: float) -> list[RequestRecord]:
    """100 requests a second in region-a from t=0; from t=10 every ``bad_every``-th answered by
    v4, which fails one in three of them, until ``until_s``."""
    records = []
    for n in range(3000):
        t_s = n / 100
        bad = 10 <= t_s < until_s and n % bad_every == 0
        records.append(_record(t_s, "4" if bad else "1", ok=not (bad and n % 3 == 0)))
    return records


def _canary(outcome: str, decision_s: float, off_s: float) -> list[dict[str, object]]:
    start = {"release": "canary", "version": "4", "canary": "a1", "region": "region-a",
             "traffic_s": 10.0, "share": 0.1}
    step = {"share": 0.1, "started_s": 10.0, "ended_s": decision_s, "phase": "Failed",
            "measurements": [{"metric": "error-rate", "t_s": decision_s, "value": 0.33,
                              "phase": "Failed", "detail": ""}]}
    analysis = {"release": "canary-analysis", "version": "4", "steps": [step],
                "decision": {"t_s": decision_s, "phase": "Failed", "outcome": "roll back"},
                "outcome": outcome, "traffic_off_s": off_s, "rolled_back_s": off_s + 0.5}
    return [start, analysis]


def test_a_failed_canary_is_measured_from_traffic_to_verdict_to_its_last_answer() -> None:
    requests = RequestArrays.of(_canary_requests(bad_every=10, until_s=14.0))
    (release,) = release_outcomes({"canary": _canary("rolled back", 13.5, 13.6)}, requests,
                                  {"canary": 20.0}, latency_slo_s=SLO_S)
    assert release.kind == "canary" and release.outcome == "rolled back"
    assert release.time_to_detect_s == pytest.approx(3.5)
    # the last v4 answer: request 1390 (t 13.90) ended at 13.91
    assert release.last_served_s == pytest.approx(13.91)
    assert release.time_to_roll_back_s == pytest.approx(13.91 - 13.5)
    assert release.served_until_decision is True
    assert release.served == 40
    assert release.failed == sum(1 for n in range(1000, 1400, 10) if n % 3 == 0)
    assert release.harmed == release.failed and release.slowed == 0
    # in the step's span [10, 13.5): 35 of region-a's 350 requests
    assert release.served_share == pytest.approx(35 / 350, abs=1e-9)
    assert release.expected_share == pytest.approx(0.1)


def test_a_canary_the_edge_took_out_before_the_verdict_rolled_back_in_no_time() -> None:
    """HAProxy's passive check (observe layer7) may eject a failing canary before its
    analysis fails it: its last answer ends before the decision; not a negative time."""
    requests = RequestArrays.of(_canary_requests(bad_every=10, until_s=12.0))
    (release,) = release_outcomes({"canary": _canary("rolled back", 13.5, 13.6)}, requests,
                                  {"canary": 20.0}, latency_slo_s=SLO_S)
    assert release.last_served_s == pytest.approx(11.91)
    assert release.time_to_roll_back_s == 0.0 and release.served_until_decision is False
    assert release.time_to_detect_s == pytest.approx(3.5)


def test_a_canary_failed_on_quality_harmed_every_answer_it_gave() -> None:
    requests = RequestArrays.of(_canary_requests(bad_every=10, until_s=14.0))
    timeline = _canary("rolled back", 13.5, 13.6)
    step = timeline[1]["steps"][0]  # type: ignore[index]
    step["measurements"] = [{"metric": "shadow-roc-auc", "t_s": 13.5, "value": 0.56,
                             "phase": "Failed", "detail": ""}]
    (release,) = release_outcomes({"canary": timeline}, requests, {"canary": 20.0},
                                  latency_slo_s=SLO_S)
    assert release.harmed == release.served == 40


def test_a_promoted_canary_has_no_detection_and_no_rollback() -> None:
    requests = RequestArrays.of([_record(t / 10, "2" if t % 10 == 0 else "1")
                                 for t in range(100, 200)])
    timeline = _canary("promoted", 19.0, 19.0)
    timeline[1]["decision"] = {"t_s": 19.0, "phase": "Successful", "outcome": "promote"}
    (release,) = release_outcomes({"good": timeline}, requests, {"good": 20.0},
                                  latency_slo_s=SLO_S)
    assert release.outcome == "promoted"
    assert release.time_to_detect_s is None and release.time_to_roll_back_s is None


def test_a_clean_blue_green_switch_counts_no_failed_and_no_mixed_answer() -> None:
    records = [_record(t / 100, "2" if t >= 1000 else "1") for t in range(2000)]
    switch = {"release": "blue-green", "version": "2", "switch_s": 9.995, "switched_s": 9.999}
    (release,) = release_outcomes({"bg": [switch]}, RequestArrays.of(records), {"bg": 20.0},
                                  latency_slo_s=SLO_S)
    assert (release.switch_failed, release.mixed) == (0, 0)
    assert release.served == 1000


def test_the_same_version_answering_before_the_switch_began_is_another_release() -> None:
    """A promoted canary of v2, rolled back to v1 just before the blue-green to v2 began: its
    last v2 answers are neither this switch's answers nor the start of a mix."""
    records = [_record(t / 100, "2" if t < 850 or t >= 1000 else "1") for t in range(2000)]
    switch = {"release": "blue-green", "version": "2", "began_s": 9.0, "switch_s": 9.995,
              "switched_s": 9.999}
    (release,) = release_outcomes({"bg": [switch]}, RequestArrays.of(records), {"bg": 20.0},
                                  latency_slo_s=SLO_S)
    assert (release.switch_failed, release.mixed) == (0, 0)
    assert release.served == 1000


def test_a_flapping_switch_counts_each_old_answer_after_the_first_new_one() -> None:
    records = [_record(t / 100, "2" if t >= 1000 and t % 7 else "1", ok=t != 1003)
               for t in range(2000)]
    switch = {"release": "blue-green", "version": "2", "switch_s": 9.995, "switched_s": 9.999}
    (release,) = release_outcomes({"bg": [switch]}, RequestArrays.of(records), {"bg": 20.0},
                                  latency_slo_s=SLO_S)
    first_new_end = 10.01 + 0.01  # request 1001: the first good answer from v2
    assert release.mixed == sum(1 for t in range(1000, 2000)
                                if t % 7 == 0 and t / 100 > first_new_end)
    assert release.switch_failed == 1


def test_a_rollback_is_timed_from_the_decision_to_the_last_slow_answer() -> None:
    records = [_record(t / 10, "3" if 50 <= t < 123 else "1",
                       latency_s=0.3 if 50 <= t < 123 else 0.01) for t in range(200)]
    release = {"release": "full", "version": "3", "began_s": 4.9, "traffic_s": 5.0}
    rollback = {"rollback": "tabular", "decision_s": 12.0, "rolled_back_s": 12.4}
    (outcome,) = release_outcomes({"rb": [release, rollback]}, RequestArrays.of(records),
                                  {"rb": 13.0}, latency_slo_s=SLO_S)
    assert outcome.kind == "rollback" and outcome.outcome == "rolled back"
    assert outcome.last_served_s == pytest.approx(12.2 + 0.3)
    assert outcome.time_to_roll_back_s == pytest.approx(0.5)
    assert outcome.served == 73 and outcome.slowed == 73 and outcome.harmed == 73


def test_scenarios_without_a_release_timeline_give_nothing() -> None:
    assert release_outcomes({}, RequestArrays.of([_record(1.0, "1")]), {},
                            latency_slo_s=SLO_S) == []
