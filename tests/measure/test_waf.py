"""The WAF's verdicts per attack class and the latency it adds, on synthetic run folders whose
counts are known by construction (requests with the real RecordWriter, waf.jsonl by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.measure.waf import waf_latency, waf_verdicts
from gameday.measure.waf_log import EdgeRequests, WafEntry, read_waf_log
from gameday.records import RecordWriter, RequestRecord

T0 = 1_764_061_200.0


_EDGE_REFUSALS = (0, 400, 403, 413, 429)  # answers no region named


def labelled(label: str, *, waf: str = "blocking", status: int = 200, policy: str = "",
             at_s: float = 5.0, latency_s: float = 0.01, region: str | None = None
             ) -> RequestRecord:
    ok = status == 200 and not policy
    if region is None:
        region = "" if status in _EDGE_REFUSALS else "region-a"
    return RequestRecord(T0 + at_s, T0 + at_s, T0 + at_s + latency_s, "rag", "ask",
                         region, status, ok,
                         "" if ok else ("connection" if not status else "http_4xx"),
                         policy=policy, edge_cache="NONE" if waf else "", waf=waf, label=label)


def write_run(run_dir: Path, records: list[RequestRecord], waf_lines: list[dict] = ()) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for record in sorted(records, key=lambda r: r.scheduled_s):
            writer.write(record)
    if waf_lines:
        (run_dir / "waf.jsonl").write_text("".join(json.dumps(line) + "\n"
                                                   for line in waf_lines))
    return run_dir


def entry(label: str, rules: list[int], *, score: int | None = None, blocked: bool = False,
          mode: str = "blocking") -> dict:
    return {"t_s": T0 + 5, "label": label, "method": "GET", "uri": "/rag/ask?q=x",
            "status": 403 if blocked else 200, "blocked": blocked, "score": score,
            "rules": rules, "mode": mode}


def blocking_records() -> list[RequestRecord]:
    many = [
        *[labelled("benign") for _ in range(9)], labelled("benign", waf="blocked", status=403),
        *[labelled("sqli", waf="blocked", status=403) for _ in range(7)], labelled("sqli"),
        labelled("sqli", status=429),  # rate limited: no verdict
        *[labelled("xss", waf="blocked", status=403) for _ in range(4)],
        *[labelled("traversal", waf="blocked", status=403) for _ in range(3)],
        labelled("traversal", waf="refused", status=400),  # nginx: a path above the root
        labelled("traversal", status=404),  # passed the WAF, the app said no such file
        *[labelled("oversized", status=413) for _ in range(3)],  # the edge's body limit
        labelled("oversized", status=413, region="region-a"),  # the stack's own: passed
        labelled("oversized", waf="", status=0),  # no edge answer
        *[labelled("prompt-injection", waf="blocked", status=403) for _ in range(2)],
        *[labelled("prompt-injection", policy="guard:injection") for _ in range(3)],
        labelled("prompt-injection"),
    ]
    ordinary = [labelled("", at_s=10 + 0.1 * k) for k in range(19)]
    ordinary.append(labelled("", waf="blocked", status=403, at_s=12.05))
    return many + ordinary


BLOCKING_LOG = [*[entry("sqli", [942100, 942190, 949110, 980130], score=10, blocked=True)
                  for _ in range(7)],
                entry("sqli", [942100], score=3),
                entry("benign", [920350, 949110], score=5, blocked=True),
                entry("", [920350], score=3), entry("", [920350, 920270], score=5,
                                                    blocked=True)]


@pytest.fixture
def blocking(tmp_path):
    run_dir = write_run(tmp_path / "run", blocking_records(), BLOCKING_LOG)
    return waf_verdicts(EdgeRequests.read(run_dir), read_waf_log(run_dir), mode="blocking",
                        threshold=5)


def test_blocked_attacks_are_true_positives_and_passed_ones_false_negatives(blocking):
    sqli = blocking.of("sqli")
    assert (sqli.sent, sqli.true_positives, sqli.false_negatives) == (9, 7, 1)
    assert sqli.rate_limited == 1 and sqli.judged == 8
    assert sqli.blocked_rate == pytest.approx(7 / 8)
    assert (sqli.false_positives, sqli.true_negatives) == (None, None)
    assert blocking.of("xss").blocked_rate == 1.0


def test_a_blocked_benign_request_is_a_false_positive(blocking):
    benign = blocking.of("benign")
    assert (benign.false_positives, benign.true_negatives) == (1, 9)
    assert benign.true_positives is None
    assert blocking.false_positive_rate == pytest.approx(0.1)


def test_refused_and_body_limit_count_as_blocked_at_the_edge_and_apart(blocking):
    traversal = blocking.of("traversal")
    assert (traversal.by_waf, traversal.refused, traversal.passed) == (3, 1, 1)
    assert traversal.true_positives == 4 and traversal.blocked_rate == pytest.approx(0.8)
    oversized = blocking.of("oversized")
    assert (oversized.body_limit, oversized.by_waf, oversized.no_answer) == (3, 0, 1)
    assert oversized.passed == 1  # a region named its 413: the stack's own, past the edge
    assert oversized.judged == 4 and oversized.blocked_rate == pytest.approx(0.75)


def test_a_guard_refusal_is_stopped_by_the_service_not_by_the_waf(blocking):
    injection = blocking.of("prompt-injection")
    assert (injection.by_waf, injection.by_service, injection.passed) == (2, 3, 1)
    assert injection.true_positives == 2 and injection.false_negatives == 1
    assert injection.blocked_rate == pytest.approx(2 / 6)
    assert injection.stopped_rate == pytest.approx(5 / 6)


def test_overall_attack_rates_pool_every_attack_class(blocking):
    # judged: sqli 8 + xss 4 + traversal 5 + oversized 4 + injection 6 = 27
    assert (blocking.attacks_judged, blocking.attacks_blocked) == (27, 20)
    assert blocking.attack_blocked_rate == pytest.approx(20 / 27)
    assert blocking.attack_stopped_rate == pytest.approx(23 / 27)
    assert [c.label for c in blocking.classes] == ["benign", "sqli", "xss", "traversal",
                                                   "oversized", "prompt-injection"]
    assert blocking.counted_as == "blocking"


def test_top_rules_leave_out_the_anomaly_evaluation_and_correlation(blocking):
    sqli = blocking.of("sqli")
    assert [(r.rule, r.entries) for r in sqli.top_rules] == [(942100, 8), (942190, 7)]
    assert sqli.log_entries == 8
    assert [r.rule for r in blocking.of("benign").top_rules] == [920350]


def test_ordinary_load_the_waf_refused_is_kept_apart(blocking):
    assert blocking.unlabelled_blocked == 1
    assert blocking.unlabelled_log_entries == 2
    assert [(r.rule, r.entries) for r in blocking.unlabelled_top_rules] == [(920350, 2),
                                                                            (920270, 1)]


def detection_records() -> list[RequestRecord]:
    return [*[labelled("benign", waf="detection") for _ in range(5)],
            *[labelled("sqli", waf="detection") for _ in range(8)],
            *[labelled("xss", waf="detection") for _ in range(2)],
            *[labelled("prompt-injection", waf="detection", policy="guard:injection")
              for _ in range(2)],
            *[labelled("prompt-injection", waf="detection") for _ in range(2)]]


DETECTION_LOG = [
    *[entry("sqli", [942100, 949110], score=10, mode="detection") for _ in range(3)],
    *[entry("sqli", [942100], score=5, mode="detection") for _ in range(2)],  # score alone
    entry("sqli", [942100], score=3, mode="detection"),  # below the threshold
    entry("benign", [920350], score=5, mode="detection"),
    *[entry("xss", [941100, 949110], score=5, mode="detection") for _ in range(4)],
    *[entry("prompt-injection", [932100, 949110], score=5, mode="detection")
      for _ in range(3)],
]


@pytest.fixture
def detection_run(tmp_path):
    return write_run(tmp_path / "run", detection_records(), DETECTION_LOG)


def _detection(run_dir: Path, mode: str = "detection", threshold: int = 5):
    return waf_verdicts(EdgeRequests.read(run_dir), read_waf_log(run_dir), mode=mode,
                        threshold=threshold)


def test_detection_only_counts_would_block_verdicts_from_the_waf_log(detection_run):
    verdicts = _detection(detection_run)
    assert verdicts.counted_as == "detection"
    sqli = verdicts.of("sqli")  # 3 with 949110 + 2 scored at the threshold; 1 below it
    assert (sqli.would_block_entries, sqli.true_positives, sqli.false_negatives) == (5, 5, 3)
    assert sqli.blocked_rate == pytest.approx(5 / 8)
    benign = verdicts.of("benign")
    assert (benign.false_positives, benign.true_negatives) == (1, 4)


def test_detection_never_counts_more_would_blocks_than_requests(detection_run):
    xss = _detection(detection_run).of("xss")
    assert (xss.log_entries, xss.by_waf, xss.passed, xss.blocked_rate) == (4, 2, 0, 1.0)


def test_detection_takes_would_blocks_from_passed_then_from_the_guards(detection_run):
    injection = _detection(detection_run).of("prompt-injection")
    assert (injection.by_waf, injection.by_service, injection.passed) == (3, 1, 0)


def test_answers_marked_detection_count_as_detection_whatever_the_suite_says(detection_run):
    assert _detection(detection_run, mode="blocking").counted_as == "detection"


def test_the_suites_threshold_decides_what_a_score_alone_would_block(detection_run):
    sqli = _detection(detection_run, threshold=10).of("sqli")
    assert sqli.would_block_entries == 3  # the 949110 ones; score 5 < 10


def test_no_labelled_request_and_no_log_entry_is_no_verdict(tmp_path):
    run_dir = write_run(tmp_path / "run", [labelled("", at_s=1.0)])
    assert waf_verdicts(EdgeRequests.read(run_dir), read_waf_log(run_dir), mode="blocking",
                        threshold=5) is None
    assert read_waf_log(run_dir) is None


def test_a_damaged_waf_log_line_names_the_file_and_line(tmp_path):
    run_dir = write_run(tmp_path / "run", [labelled("sqli")])
    (run_dir / "waf.jsonl").write_text('{"t_s": 1, "rules": "942100"}\n{}\n')
    with pytest.raises(ValueError, match=r"waf.jsonl: line 1: not a WAF log entry"):
        read_waf_log(run_dir)


def test_would_block_reads_the_evaluation_rule_or_the_score():
    base = {"t_s": 0.0, "label": "sqli", "method": "GET", "uri": "/", "status": 200,
            "blocked": False, "mode": "detection"}
    assert WafEntry(**base, score=None, rules=(949110,)).would_block(5)
    assert WafEntry(**base, score=7, rules=(942100,)).would_block(5)
    assert not WafEntry(**base, score=4, rules=(942100,)).would_block(5)
    assert not WafEntry(**base, score=None, rules=(942100,)).would_block(5)


def timed(at_s: float, latency_s: float, *, waf: str, stack: str = "tabular",
          endpoint: str = "predict", ok: bool = True, cache: str = "NONE",
          label: str = "") -> RequestRecord:
    return RequestRecord(T0 + at_s, T0 + at_s, T0 + at_s + latency_s, stack, endpoint,
                         "region-a", 200 if ok else 503, ok, "" if ok else "http_5xx",
                         edge_cache=cache, waf=waf, label=label)


@pytest.fixture
def latency(tmp_path):
    records = [
        *[timed(3 + 0.1 * k, 0.010 + 0.001 * k, waf="blocking") for k in range(10)],
        *[timed(3.05 + 0.2 * k, 0.005 + 0.001 * k, waf="off") for k in range(10)],
        timed(3.5, 2.0, waf="blocking", ok=False),  # failed: out
        timed(3.55, 0.0005, waf="blocking", cache="HIT"),  # the cache answered: out
        timed(3.6, 0.5, waf="blocking", label="benign"),  # labelled: out
        timed(1.0, 0.9, waf="off"),  # warm-up: out
        *[timed(4 + k, 0.1, waf="detection", stack="rag", endpoint="ask") for k in range(3)],
    ]
    run_dir = write_run(tmp_path / "run", records)
    return {(f.stack, f.endpoint): f
            for f in waf_latency(EdgeRequests.read(run_dir), warmup_end_s=T0 + 2)}


def test_the_waf_latency_compares_ok_answers_with_and_without_the_waf(latency):
    tabular = latency["tabular", "predict"]
    assert tabular.with_waf.requests == 10 and tabular.without_waf.requests == 10
    # nearest rank of 10 values: p50 = the 5th, p90 = the 9th, p99 = the 10th
    assert tabular.with_waf.p50_s == pytest.approx(0.014, abs=1e-6)
    assert tabular.without_waf.p50_s == pytest.approx(0.009, abs=1e-6)
    assert tabular.added_p50_s == pytest.approx(0.005, abs=1e-6)
    assert tabular.added_p90_s == pytest.approx(0.005, abs=1e-6)
    assert tabular.added_p99_s == pytest.approx(0.005, abs=1e-6)


def test_the_waf_latency_gives_each_sides_rate_hits_included(latency):
    tabular = latency["tabular", "predict"]
    # with the WAF: the 10 timed answers and the cache's hit, sent from 3.0 to 3.9 s
    assert tabular.with_waf.rate_per_s == pytest.approx(11 / 0.9)
    assert tabular.without_waf.rate_per_s == pytest.approx(10 / 1.8)
    assert tabular.rate_change_per_s == pytest.approx(11 / 0.9 - 10 / 1.8)


def test_a_side_missing_leaves_the_difference_none(latency):
    rag = latency["rag", "ask"]
    assert rag.with_waf.requests == 3 and rag.without_waf is None
    assert (rag.added_p50_s, rag.added_p99_s, rag.rate_change_per_s) == (None, None, None)
