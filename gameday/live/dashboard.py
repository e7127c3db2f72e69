"""The game-day dashboard as one rich renderable (``render``): pure, from the figures and the
operator's state, so it is drawn the same to a terminal, to a test's console or to nowhere.

Panels: Traffic (requests/s, errors/s, p99, the last minute as sparklines), Regions (share
served), Error budget (burn rates), Database (replication lag), Scenarios (each one's
state, the fault window), Operator (actions, notes, the harness's progress), Keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from gameday.live.figures import (
    BURN_WINDOWS_S,
    P99_WINDOW_S,
    RATE_WINDOW_S,
    LiveFigures,
    Replication,
)
from gameday.live.operator import KEYS
from gameday.live.scenarios import ScenarioState

__all__ = ["WIDE", "Screen", "render", "sparkline"]

WIDE = 120
_BARS = "▁▂▃▄▅▆▇█"
_STATE_STYLES = {"waiting": "bold yellow", "injected": "yellow", "fault": "bold red",
                 "rolling-back": "bold cyan", "rolled-back": "cyan", "ended": "green",
                 "aborted": "magenta", "not-run": "dim", "queued": "dim"}


@dataclass(frozen=True, slots=True)
class Screen:
    suite: str
    run_id: str
    hypothesis: str
    figures: LiveFigures
    next_scenario: str | None  # what `i` would inject
    note: str | None  # the note being typed
    message: str  # what the last key did
    log: Sequence[str]  # the harness's last progress lines


def sparkline(values: Sequence[int]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(len(_BARS) - 1, round(v / top * (len(_BARS) - 1)))]
                   for v in values)


def _clock(screen: Screen) -> str:
    states = screen.figures.states
    now_s, start_s = screen.figures.now_s, states.load_start_s
    if start_s is None:
        return "load not started yet"
    parts = [f"+{_mmss(now_s - start_s)} since load start"]
    if states.warmup_end_s is not None and now_s < states.warmup_end_s:
        parts.append(f"warm-up ends in {_mmss(states.warmup_end_s - now_s)}")
    elif states.load_end_s is not None:
        left_s = states.load_end_s - now_s
        parts.append(f"game day ends in {_mmss(left_s)}" if left_s > 0 else "load ended")
    if states.stopping:
        parts.append(f"STOPPING ({states.stopping})")
    return " · ".join(parts)


def _mmss(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _grid(*min_widths: int) -> Table:
    """A borderless grid of a label, a figure and a bar: a narrow terminal crops the bar,
    never the label or the figure (they keep their minimum widths)."""
    grid = Table.grid(padding=(0, 1))
    for number, width in enumerate(min_widths):
        grid.add_column(no_wrap=True, overflow="crop", min_width=width,
                        justify="right" if number == 1 else "left")
    return grid


def _traffic(figures: LiveFigures, seconds: int) -> Panel:
    """``seconds``: how many of the last seconds the sparklines show (what fits)."""
    traffic = figures.traffic
    grid = _grid(8, 7, 0)
    grid.add_row("req/s", f"{traffic.requests_per_s:.1f}",
                 Text(sparkline(traffic.per_s[-seconds:]), style="green"))
    grid.add_row("errors/s", Text(f"{traffic.errors_per_s:.1f}",
                                  style="bold red" if traffic.errors_per_s else ""),
                 Text(sparkline(traffic.errors_by_s[-seconds:]), style="red"))
    grid.add_row("p99", "—" if traffic.p99_s is None else f"{traffic.p99_s * 1000:.0f} ms",
                 "")
    return Panel(grid, title="Traffic", title_align="left", subtitle_align="right",
                 subtitle=f"rates {RATE_WINDOW_S:g} s, p99 {P99_WINDOW_S:g} s")


def _regions(figures: LiveFigures) -> Panel:
    grid = _grid(9, 6, 0)
    for region, share in sorted(figures.traffic.share.items()):
        name = region or "no answer"
        grid.add_row(name, f"{share:.1%}", Text("█" * round(share * 20),
                                                 style="red" if not region else "blue"))
    if not figures.traffic.share:
        grid.add_row(Text("no requests ended yet", style="dim"))
    return Panel(grid, title=f"Regions (last {P99_WINDOW_S:g} s)", title_align="left")


def _burn(figures: LiveFigures) -> Panel:
    burn = figures.burn
    if burn is None:
        return Panel(Text("the suite has no availability objective", style="dim"),
                     title="Error budget", title_align="left")
    grid = _grid(9, 6)
    for window_s, rate in burn.rates:
        style = "" if rate is None or rate < 1 else "bold red" if rate >= 14.4 else "yellow"
        grid.add_row(f"burn {window_s:g} s",
                     Text("—" if rate is None else f"{rate:.1f}x", style=style))
    grid.add_row(Text(f"{burn.objective} {burn.target:.2%}", style="dim"), "")
    return Panel(grid, title="Error budget", title_align="left")


def _database(figures: LiveFigures) -> Panel:
    if not figures.database:
        body: RenderableType = Text("no database", style="dim")
    elif figures.replication is None:
        body = Text("no replication sample yet", style="dim")
    else:
        body = Text(_lag(figures.replication))
    return Panel(body, title="Database", title_align="left")


def _lag(replication: Replication) -> str:
    parts = []
    if replication.lag_bytes is not None:
        parts.append(f"replay lag {replication.lag_bytes:,} B")
    if replication.lag_s is not None:
        parts.append(f"{replication.lag_s * 1000:.0f} ms")
    return (" / ".join(parts) or "lag unknown") + f" ({replication.standby})"


def _scenarios(screen: Screen) -> Panel:
    figures = screen.figures
    origin_s = figures.states.load_start_s or figures.now_s
    table = Table(box=None, padding=(0, 1), show_edge=False)
    for column in ("scenario", "state", "since", "fault window"):
        table.add_column(column, style="bold" if column == "scenario" else "", no_wrap=True,
                         overflow="ellipsis")
    for state in figures.states.scenarios.values():
        table.add_row(state.name, Text(_describe(state), style=_STATE_STYLES.get(state.state,
                                                                                   "")),
                      "" if state.since_s is None else f"+{_mmss(state.since_s - origin_s)}",
                      _window(state, origin_s, figures.now_s))
    if not figures.states.scenarios:
        table.add_row("the suite has no scenarios")
    return Panel(table, title="Scenarios", title_align="left")


def _describe(state: ScenarioState) -> str:
    words = {"waiting": "WAITING: i injects it", "fault": "FAULT IN FORCE",
             "injected": "injected", "rolling-back": "ROLLING BACK",
             "rolled-back": "rolled back, checking",
             "not-run": "not run"}.get(state.state, state.state)
    if state.state == "aborted":
        return state.detail or "aborted"
    return f"{words} {state.detail}".strip() if state.state == "ended" else words


def _window(state: ScenarioState, origin_s: float, now_s: float) -> str:
    if state.fault_start_s is None:
        return ""
    start = f"+{_mmss(state.fault_start_s - origin_s)}"
    if state.fault_end_s is None:
        return f"{start} → now ({now_s - state.fault_start_s:.0f} s)"
    return f"{start} → +{_mmss(state.fault_end_s - origin_s)}"


def _operator(screen: Screen) -> Panel:
    origin_s = screen.figures.states.load_start_s
    lines = [Text(f"hypothesis: {screen.hypothesis or '(none stated)'}", style="italic")]
    for action in screen.figures.actions:
        at = "" if origin_s is None else f"+{_mmss(action.t_s - origin_s)} "
        text = action.text if action.action == "note" else ""
        what = " ".join(part for part in (action.action.replace("_", " "), action.scenario, text)
                        if part)
        lines.append(Text(f"{at}{what}", style="cyan"))
    lines += [Text(f"· {line}", style="dim") for line in screen.log]
    return Panel(Group(*lines), title="Operator", title_align="left")


def _keys(screen: Screen) -> Panel:
    if screen.note is not None:
        line = Text.assemble(("note: ", "bold"), screen.note, ("█", "blink"),
                             ("   Enter saves · Esc cancels", "dim"))
    else:
        line = Text()
        for key, what in KEYS:
            if key == "i" and screen.next_scenario:
                what = f"inject {screen.next_scenario}"
            line.append(f" {key} ", style="reverse bold")
            line.append(f" {what}   ")
        line.append("Ctrl-C stops as in `gameday run`", style="dim")
    return Panel(Group(line, Text(screen.message, style="yellow")), title="Keys",
                 title_align="left")


def _row(*panels: Panel, ratios: Sequence[int] = ()) -> Table:
    row = Table.grid(expand=True)
    for number, _ in enumerate(panels):
        row.add_column(ratio=ratios[number] if ratios else 1)
    row.add_row(*panels)
    return row


def render(screen: Screen, width: int = 160) -> RenderableType:
    """The whole screen; under ``WIDE`` columns the six panels go two a row, not three."""
    figures = screen.figures
    head = Text.assemble((f"gameday game day · {screen.suite} · ", "bold"),
                         (screen.run_id, "dim"), "\n", _clock(screen))
    rows: list[RenderableType]
    if width >= WIDE:
        rows = [_row(_traffic(figures, 30), _regions(figures), _burn(figures)),
                _row(_scenarios(screen), _database(figures), ratios=(3, 1))]
    else:
        rows = [_row(_traffic(figures, 18), _burn(figures)),
                _row(_regions(figures), _database(figures)), _scenarios(screen)]
    burn_note = Text(f"burn = bad share / (1 − target) over {BURN_WINDOWS_S[0]:g} s and "
                     f"{BURN_WINDOWS_S[1]:g} s; a request counts when it ended", style="dim")
    return Group(head, *rows, _operator(screen), _keys(screen), burn_note)
