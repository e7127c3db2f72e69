"""Ctrl-C in the middle of a run that stood the platform up itself leaves nothing behind:
no process, no listening port, no nft rule (the fault in force when Ctrl-C came), no toxic."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from gameday.platforms.local import nft
from gameday.platforms.local.state import LocalHome, is_same_process, read_json
from gameday.platforms.local.topology import Ports
from tests.runs.run_helpers import (
    RunFolder,
    finish,
    interrupt,
    start_gameday,
    wait_for_event,
    write_suite,
)


def _listening_in_our_blocks(ports: set[int]) -> list[str]:
    found = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.status != psutil.CONN_LISTEN or not conn.laddr:
            continue
        ip, port = conn.laddr.ip, conn.laddr.port
        if ip.startswith(("127.10.", "127.20.")) or (ip.startswith("127.") and port in ports):
            found.append(f"{ip}:{port} (pid {conn.pid})")
    return found


def _topology_ports(home: LocalHome) -> set[int]:
    topology = read_json(home.topology) or {}
    ports = {Ports.edge, Ports.edge_stats, Ports.proxy_api}
    for link in topology.get("links", []):
        ports.add(int(str(link["listen"]).rsplit(":", 1)[1]))
    return ports


def test_sigint_during_an_isolation_leaves_nothing_behind(trained_artifacts: Path,
                                                          tmp_path: Path) -> None:
    usable, why = nft.nft_usable()
    if not usable:
        pytest.skip(f"nftables is not usable here: {why}")
    assert not nft.list_tables(), "an nft table of gameday exists before the test"
    home = LocalHome(tmp_path / "home")
    suite = write_suite(tmp_path / "suite.yaml", experiment="region-isolation", duration_s=60,
                        offset_s=2, fault_duration_s=30)
    runs = tmp_path / "runs"
    process = start_gameday("run", str(suite), "--runs-dir", str(runs), home=home.root)
    try:
        wait_for_event(runs, "fault_start", timeout_s=120)
        state = read_json(home.state)
        ports = _topology_ports(home)
        assert nft.list_tables(), "the isolation should be in force when Ctrl-C comes"
        assert _listening_in_our_blocks(ports)
    finally:
        interrupt(process)
    code, output = finish(process, timeout_s=90)

    assert code == 2, output
    assert "Traceback" not in output
    assert nft.list_tables() == []
    assert _listening_in_our_blocks(ports) == []
    alive = [m["name"] for m in state["members"] if is_same_process(m["pid"], m["create_time"])]
    assert alive == []
    assert not is_same_process(state["supervisor_pid"], state["supervisor_create_time"])
    assert not home.state.exists() and not home.socket.exists()
    run = RunFolder.only_one_in(runs)
    summary = run.summary
    assert summary["verdict"] == "error" and "interrupted" in summary["reason"]
    assert (run.path / "report.html").is_file() and (run.path / "junit.xml").is_file()
    assert [e.kind for e in run.events].count("interrupted") == 1
    assert run.requests  # the records written before Ctrl-C are kept
