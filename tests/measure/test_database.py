"""The database figures of a run folder whose truth is known by construction (see
``database_run``): written with the real writers, read back with the real readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.dbrecords import DbSample, read_audit, read_db_samples, read_replication_samples
from gameday.measure import DatabaseFigures, DatabaseRecords, Writes, measure_database
from gameday.measure.arrays import ARRAY_COLUMNS
from gameday.records import Event, EventKind, RequestRecord, read_events, read_request_table
from tests.measure import database_run as run
from tests.measure.database_run import Variant

PROBE_S = run.PROBE_EVERY_S


def _figures(tmp_path: Path, variant: Variant | None = None) -> DatabaseFigures:
    variant = variant or Variant()
    run_dir = run.write_database_run(tmp_path / "run", variant)
    records = DatabaseRecords(
        writes=Writes.from_table(read_request_table(run_dir, [*ARRAY_COLUMNS, "seq",
                                                              "endpoint"])),
        samples=tuple(read_db_samples(run_dir)),
        replication=tuple(read_replication_samples(run_dir)),
        audit=read_audit(run_dir))
    return measure_database(records, run.suite(variant), read_events(run_dir))


def _scenario(figures: DatabaseFigures):
    each = figures.scenario(run.SCENARIO)
    assert each is not None
    return each


def test_lost_writes_are_exactly_the_acknowledged_ones_the_audit_misses(tmp_path):
    rpo = _scenario(_figures(tmp_path)).rpo
    assert rpo is not None
    assert rpo.lost == run.LOST
    assert rpo.rpo_s == pytest.approx(run.FAULT_S - (488 * run.SPACING_S + run.ACK_AFTER_S),
                                      abs=1e-6)
    assert rpo.oldest_lost_ack_s == pytest.approx(run.ack_s(488), abs=1e-6)
    assert rpo.lost_after_fault == 0


def test_rpo_and_write_rto_count_from_the_kill_not_from_a_slowed_link_before_it(tmp_path):
    each = _scenario(_figures(tmp_path, Variant(degraded_from_s=3.0)))
    assert each.window is not None and each.window.start_s == run.T0_S + 3.0  # shaded from here
    assert each.rpo is not None and each.write_rto is not None
    assert each.rpo.rpo_s == pytest.approx(run.FAULT_S - run.ack_s(488) + run.T0_S, abs=1e-6)
    assert each.write_rto.fault_start_s == run.T0_S + run.FAULT_S


def test_a_write_present_but_never_acknowledged_is_unknown_not_lost(tmp_path):
    rpo = _scenario(_figures(tmp_path)).rpo
    assert rpo is not None
    acknowledged = len(run.acknowledged_seqs())
    assert acknowledged == 920  # 0-499 before the crash, 580-999 on the new primary
    assert rpo.unknown == run.UNKNOWN
    assert (rpo.acknowledged, rpo.present) == (acknowledged, acknowledged - 3 + 1)


def test_write_rto_runs_to_the_first_ack_of_the_promoted_standby_with_its_parts(tmp_path):
    each = _scenario(_figures(tmp_path))
    assert (each.primary_before, each.new_primary, each.new_primary_region) == (
        "pg-a", "pg-b", "region-b")
    assert each.failed_over
    rto = each.write_rto
    assert rto is not None and each.write_rto_error == ""
    assert rto.write_rto_s == pytest.approx(run.FIRST_NEW_ACK_SEND_S + run.ACK_AFTER_S
                                            - run.FAULT_S, abs=1e-6)
    assert rto.detect_s == pytest.approx(run.ACK_AFTER_S, abs=1e-6)
    assert rto.promote_s == pytest.approx(run.PROMOTED_S - run.FAULT_S, abs=1e-6)
    assert rto.failed_writes == 80
    [promotion] = each.promotions
    assert (promotion.node, promotion.took_s) == ("pg-b", 0.04)


def test_an_old_primary_still_writable_after_the_promotion_is_a_split_brain_window(tmp_path):
    figures = _figures(tmp_path, Variant(split_brain=True))
    brain = _scenario(figures).split_brain
    assert brain is not None and brain.happened
    [window] = brain.windows
    assert window.nodes == ("pg-a", "pg-b")
    assert window.start_s - run.T0_S == pytest.approx(run.PROMOTED_S, abs=PROBE_S)
    assert window.end_s - run.T0_S == pytest.approx(run.OLD_PRIMARY_WRITABLE_UNTIL_S,
                                                    abs=PROBE_S)
    assert figures.split_brain is not None and figures.split_brain.windows == brain.windows


def test_a_crashed_primary_is_unobserved_not_writable_so_a_clean_failover_has_no_split_brain(
        tmp_path):
    """pg-b is promoted 0.42 s after pg-a's last answer: pg-a's last 'writable' must not
    outlive its silence (the answer-holds-for max_age rule would make this a split brain)."""
    figures = _figures(tmp_path)
    brain = _scenario(figures).split_brain
    assert brain is not None and not brain.happened
    # pg-a does not answer from 5 s to the end of the samples (10 s + an answer's hold)
    assert run.WRITES * run.SPACING_S - run.FAULT_S <= brain.unobserved_s <= \
        run.WRITES * run.SPACING_S - run.FAULT_S + figures.sample_max_age_s
    assert figures.sample_interval_s == pytest.approx(PROBE_S, abs=1e-6)


def test_a_missing_audit_means_no_rpo_and_says_why(tmp_path):
    figures = _figures(tmp_path, Variant(audit="missing"))
    each = _scenario(figures)
    assert each.rpo is None
    assert "no audit.json" in each.rpo_error and "audit never ran" in each.rpo_error
    assert any("no audit.json" in error for error in figures.errors)


def test_an_audit_that_failed_means_no_rpo_and_carries_its_error(tmp_path):
    each = _scenario(_figures(tmp_path, Variant(audit="error")))
    assert each.rpo is None and "connection refused" in each.rpo_error


def test_role_changes_say_when_each_node_changed(tmp_path):
    changes = [(c.node, c.previous_state, c.state, c.role)
               for c in _scenario(_figures(tmp_path)).roles]
    assert changes == [("pg-a", None, "writable", "leader"),
                       ("pg-b", None, "standby", "replica"),
                       ("pg-a", "writable", "down", ""),
                       ("pg-b", "standby", "writable", "leader")]
    promoted = _scenario(_figures(tmp_path / "again")).roles[-1]
    assert promoted.t_s - run.T0_S == pytest.approx(run.PROMOTED_S, abs=1e-6)
    assert promoted.timeline == 2


def test_role_intervals_cover_each_node_by_state(tmp_path):
    intervals = _figures(tmp_path).intervals
    pg_a = [(i.state, round(i.start_s - run.T0_S, 3)) for i in intervals if i.node == "pg-a"]
    assert pg_a == [("writable", 0.0), ("down", run.FAULT_S)]


def test_replication_lag_is_the_standbys_unreplayed_bytes_and_is_read_at_the_fault(tmp_path):
    figures = _figures(tmp_path)
    [series] = figures.lag
    assert (series.primary, series.standby) == ("pg-a", "pg-b")
    lag = _scenario(figures).replication
    assert lag.max_lag_bytes == run.LAG_SPIKE_BYTES
    assert lag.lag_bytes_at_fault == run.LAG_BYTES
    assert lag.max_replay_lag_s == lag.replay_lag_s_at_fault == run.REPLAY_LAG_S


def test_patroni_mode_states_its_ttl_and_the_floor_patroni_enforces(tmp_path):
    figures = _figures(tmp_path, Variant(failover="patroni"))
    assert (figures.failover, figures.patroni_ttl_s) == ("patroni", 20)
    assert "ttl >= 20" in figures.facts[0] and "~20 s here" in figures.facts[0]
    assert "Asynchronous" in figures.facts[1]


def test_promote_mode_says_nothing_fences_the_old_primary(tmp_path):
    figures = _figures(tmp_path)
    assert figures.patroni_ttl_s is None and "Nothing fences the old primary" in figures.facts[0]


def test_without_a_failover_the_write_rto_runs_to_the_old_primary_taking_writes_again():
    """Patroni restarts a crashed postgres in place: nobody is promoted, pg-a comes back."""
    def write(seq: int, at_s: float, ok: bool) -> RequestRecord:
        return RequestRecord(at_s, at_s, at_s + 0.005, "rag", "write",
                             "region-a" if ok else "", 0, ok, "" if ok else "connection",
                             seq=seq)

    records = [write(i, i * 0.1, ok=not 5.0 <= i * 0.1 < 7.45) for i in range(100)]
    samples = [DbSample(i * 0.1, "pg-a", "region-a", up=not 5.0 <= i * 0.1 < 7.0,
                        writable=not 5.0 <= i * 0.1 < 7.0) for i in range(100)]
    samples += [DbSample(i * 0.1 + 0.02, "pg-b", "region-b", up=True, writable=False,
                         in_recovery=True) for i in range(100)]
    events = [Event(4.5, EventKind.SCENARIO_START, run.SCENARIO),
              Event(5.0, EventKind.FAULT_START, run.SCENARIO)]
    database = DatabaseRecords(Writes.of(records), tuple(samples), (), None)
    each = measure_database(database, run.suite(), events).scenario(run.SCENARIO)
    assert each is not None and not each.failed_over and each.new_primary is None
    assert each.write_rto is not None
    assert each.write_rto.write_rto_s == pytest.approx(2.505, abs=1e-6)
    assert each.write_rto.promote_s == pytest.approx(2.0, abs=1e-6)


def test_a_fault_that_never_stops_the_writes_has_a_write_rto_of_one_write_and_no_promotion():
    """Killing the standby: the primary keeps taking every write."""
    records = [RequestRecord(i * 0.1, i * 0.1, i * 0.1 + 0.005, "rag", "write", "region-a", 0,
                             True, seq=i) for i in range(100)]
    samples = [DbSample(i * 0.1, "pg-a", "region-a", up=True, writable=True) for i in range(100)]
    events = [Event(4.5, EventKind.SCENARIO_START, run.SCENARIO),
              Event(5.0, EventKind.FAULT_START, run.SCENARIO)]
    database = DatabaseRecords(Writes.of(records), tuple(samples), (), None)
    each = measure_database(database, run.suite(), events).scenario(run.SCENARIO)
    assert each is not None and each.write_rto is not None and not each.failed_over
    assert each.write_rto.write_rto_s == pytest.approx(0.005, abs=1e-6)
    assert each.write_rto.promote_s is None and each.write_rto.failed_writes == 0
