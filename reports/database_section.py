"""The database section of ``report.html`` (only for a run with database data): the facts of
the failover mode, what could not be measured, a table of each scenario's RPO, write RTO,
split brain and lag, the panels of ``reports.database`` and the role changes."""

from __future__ import annotations

from html import escape

from gameday.measure import DatabaseFigures, ScenarioDatabase
from reports.database import database_figures
from reports.html_table import table
from reports.numbers import seconds
from reports.panels import figure_div
from reports.summary import Summary

__all__ = ["MAX_ROLE_ROWS", "database_section"]

MAX_ROLE_ROWS = 60  # per scenario; summary.json has them all
_DEFINITIONS = (
    "RPO: lost = acknowledged but absent from the surviving primary's audit, unknown = present "
    "but never acknowledged (not a loss); RPO time = fault start − ack of the oldest lost "
    "write. Write RTO: fault start to the first write acknowledged by the new primary; detect "
    "= first failed write, promote = first probe answer of the new primary taking writes. "
    "Split brain: any instant at which two nodes took writes by the probe's samples; a node "
    "that does not answer is unobserved, counted neither writable nor safe.")


def database_section(summary: Summary) -> list[str]:
    database = summary.database
    if database is None:
        return []
    parts = ['<h2 id="database">Database: RPO, write RTO, split brain</h2>',
             _facts(database), *_errors(database), _scenario_table(database)]
    parts += [figure_div(figure, div_id)
              for div_id, figure in database_figures(summary)]
    parts += ["<h2>Database role changes</h2>", _roles_table(database)]
    return parts


def _facts(database: DatabaseFigures) -> str:
    mode = (f"Failover <b>{escape(database.failover)}</b>, replication "
            f"<b>{escape(database.replication_mode)}</b> (synchronous_commit "
            f"{escape(database.synchronous_commit)}); {len(database.writes)} numbered writes; "
            f"role probe every {seconds(database.sample_interval_s, 3)} per node (an answer "
            f"holds at most {database.sample_max_age_s:g} s).")
    facts = "".join(f"<p>{escape(fact)}</p>" for fact in (*database.facts, _DEFINITIONS))
    return f'<div class="note" id="database-facts"><p>{mode}</p>{facts}</div>'


def _errors(database: DatabaseFigures) -> list[str]:
    troubles = [*database.errors,
                *(f"{each.scenario}: {error}" for each in database.scenarios
                  for error in (each.rpo_error, each.write_rto_error, each.split_brain_error)
                  if error and not error.startswith("the fault never started"))]
    if not troubles:
        return []
    items = "".join(f"<li>{escape(trouble)}</li>" for trouble in dict.fromkeys(troubles))
    return ['<div class="banner severe" id="database-errors"><b>Database figures not (fully) '
            f"measured.</b> An SLO on a figure that was not measured fails.<ul>{items}</ul>"
            "</div>"]


def _scenario_table(database: DatabaseFigures) -> str:
    rows = [("", _scenario_row(each)) for each in database.scenarios]
    return table(["scenario", "primary before", "new primary", "lost / acknowledged",
                  "unknown", "RPO", "write RTO", "detect", "promote", "failed writes",
                  "split brain", "unobserved", "max lag", "lag at fault"],
                 rows, empty="the suite has no scenarios",
                 ids={3: "db-lost-{}", 5: "db-rpo-{}", 6: "db-write-rto-{}",
                      10: "db-split-brain-{}"},
                 row_keys=[each.scenario for each in database.scenarios])


def _scenario_row(each: ScenarioDatabase) -> list[str]:
    rpo, rto, brain, lag = each.rpo, each.write_rto, each.split_brain, each.replication
    new_primary = each.new_primary or (
        f"none (no failover; {each.primary_before} recovered)" if each.primary_before
        else "—")
    if rpo is None:
        rpo_cells = ["NOT MEASURED", "—", "NOT MEASURED"]
    else:
        rpo_cells = [f"{rpo.lost_count} / {rpo.acknowledged}", str(len(rpo.unknown)),
                     seconds(rpo.rpo_s, 3)]
    if rto is None:
        rto_cells = ["NOT MEASURED", "—", "—", "—"]
    else:
        rto_cells = [seconds(rto.write_rto_s) if rto.write_rto_s is not None
                     else "NEVER RECOVERED", seconds(rto.detect_s), seconds(rto.promote_s),
                     str(rto.failed_writes)]
    if brain is None:
        brain_cells = ["NOT MEASURED", "—"]
    else:
        brain_cells = [f"{brain.seconds:.3f} s in {len(brain.windows)} window(s)"
                       if brain.happened else "none", seconds(brain.unobserved_s)]
    return [each.scenario, each.primary_before or "—", new_primary, *rpo_cells, *rto_cells,
            *brain_cells, f"{_bytes(lag.max_lag_bytes)} / {seconds(lag.max_replay_lag_s, 3)}",
            f"{_bytes(lag.lag_bytes_at_fault)} / {seconds(lag.replay_lag_s_at_fault, 3)}"]


def _roles_table(database: DatabaseFigures) -> str:
    rows = []
    for each in database.scenarios:
        start_s = each.window.start_s if each.window else None
        for change in each.roles[:MAX_ROLE_ROWS]:
            since = "—" if start_s is None else f"{change.t_s - start_s:+.3f} s"
            role = f"{change.previous_role or '—'} → {change.role or '—'}" \
                if change.role or change.previous_role else "—"
            rows.append(("", [each.scenario, since, change.node, change.region,
                              f"{change.previous_state or 'first seen'} → {change.state}",
                              role, "—" if change.timeline is None else str(change.timeline)]))
        if len(each.roles) > MAX_ROLE_ROWS:
            rows.append(("", [each.scenario, "…", f"{len(each.roles) - MAX_ROLE_ROWS} more in "
                              "summary.json", "", "", "", ""]))
    return table(["scenario", "since fault start", "node", "region", "state", "Patroni role",
                  "timeline"], rows, empty="no role samples (db.jsonl)")


def _bytes(value: int | None) -> str:
    if value is None:
        return "—"
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value} B"
