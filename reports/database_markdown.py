"""The database paragraph of ``summary.md``: per scenario, what was lost, how long writes were
down and whether two nodes ever took writes, in plain sentences."""

from __future__ import annotations

from gameday.measure import ScenarioDatabase
from reports.numbers import seconds
from reports.summary import Summary

__all__ = ["database_markdown"]


def database_markdown(summary: Summary) -> list[str]:
    """Lines to append (each starting with a blank one); [] when not a database run."""
    database = summary.database
    if database is None:
        return []
    lines = ["", "### Database", "",
             f"Failover **{database.failover}**, replication **{database.replication_mode}** "
             f"(synchronous_commit {database.synchronous_commit}), "
             f"{len(database.writes)} numbered writes. " + " ".join(database.facts)]
    lines += [f"- {_text(error)}" for error in database.errors]
    lines += [""] + [f"- **{_text(each.scenario)}**: {_scenario(each)}"
                     for each in database.scenarios]
    return lines


def _scenario(each: ScenarioDatabase) -> str:
    rpo, rto, brain = each.rpo, each.write_rto, each.split_brain
    if rpo is None:
        lost = f"RPO not measured ({each.rpo_error})"
    else:
        lost = (f"{rpo.lost_count} of {rpo.acknowledged} acknowledged writes lost, RPO "
                f"{rpo.rpo_s:.3f} s, {len(rpo.unknown)} unknown (present, never acknowledged)")
    if rto is None or rto.write_rto_s is None:
        down = f"write RTO not measured ({each.write_rto_error})"
    else:
        by = each.new_primary or f"{each.primary_before} (no failover)"
        down = (f"write RTO {seconds(rto.write_rto_s)} to {by} (detect {seconds(rto.detect_s)}, "
                f"promote {seconds(rto.promote_s)}, {rto.failed_writes} failed writes)")
    if brain is None:
        split = f"split brain not measured ({each.split_brain_error})"
    elif brain.happened:
        split = (f"❌ SPLIT BRAIN: two nodes writable for {brain.seconds:.3f} s in "
                 f"{len(brain.windows)} window(s)")
    else:
        split = "no split brain"
    return _text(f"{lost}; {down}; {split}.")


def _text(value: str) -> str:
    return value.replace("\n", " ")


