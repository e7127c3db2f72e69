"""The generated flowchart against the topology it was made from: valid in the strict subset
(``mermaid_grammar``), and every member, address, port and fault-proxy link of the topology on
it, in the right region, with the edge's active and backup paths, the replication links
between the database nodes and the etcd quorum through the witness."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gameday.architecture import default_suite, layout_topology, mermaid
from gameday.config import Suite
from gameday.platforms.base import REGION_BLOCKS
from gameday.platforms.local.topology import Topology
from tests.architecture.mermaid_grammar import Chart, Edge, parse


@pytest.fixture(scope="module")
def topology() -> Topology:
    return layout_topology(default_suite())


@pytest.fixture(scope="module")
def chart(topology: Topology) -> Chart:
    return parse(mermaid(topology))


def _enclosing(chart: Chart, ident: str) -> list[str]:
    chain, parent = [], chart.parent[ident]
    while parent is not None:
        chain.append(parent)
        parent = chart.parent[parent]
    return chain


def test_the_chart_parses_in_the_strict_subset_and_every_node_sits_in_a_subgraph(chart):
    loose = [ident for ident in chart.nodes if chart.parent[ident] is None]
    assert loose == ["clients"]
    assert len(chart.nodes) > 20 and len(chart.edges) > 30


def test_every_member_is_on_the_chart_with_its_address_and_ports(topology, chart):
    text = "\n".join(chart.labels())
    for spec in topology.processes:
        assert spec.name in text
        for port in spec.ports.values():
            assert f":{port}" in text, f"{spec.name}: port {port}"
        if spec.region != "edge":
            assert f"{spec.name} {spec.address}" in text


def test_members_sit_in_their_region_subgraph_with_its_address_block(topology, chart):
    for region in ("region-a", "region-b"):
        ident = region.replace("-", "_")
        assert chart.subgraphs[ident] == f"{region} · {REGION_BLOCKS[region]}"
        for spec in topology.component_members("rag", "db", region):
            [node] = [n for n, label in chart.nodes.items() if f"{spec.name} " in label]
            assert ident in _enclosing(chart, node)
    assert chart.subgraphs["edge"] == "edge · 127.0.0.1/32"
    assert chart.parent["edge_nginx"] == "edge" and chart.parent["edge_haproxy"] == "edge"


def test_every_fault_proxy_link_is_a_listener_in_the_fault_proxy(topology, chart):
    links = [label for ident, label in chart.nodes.items()
             if chart.parent[ident] == "fault_proxy"]
    text = "\n".join(links)
    for link in topology.links:
        port = link.listen.rsplit(":", 1)[1]
        assert f":{port} → {link.member}" in text
    assert "Toxiproxy HTTP API" in chart.subgraphs["fault_proxy"]
    assert ":8474" in chart.subgraphs["fault_proxy"]


def test_the_edge_sends_region_a_active_and_region_b_backup_through_the_links(chart):
    assert Edge("clients", "==>", ":8080", "edge_nginx") in chart.edges
    assert Edge("edge_nginx", "==>", ":8081", "edge_haproxy") in chart.edges
    for stack, component in (("tabular", "api"), ("triton", "server"), ("rag", "api")):
        for region, role in (("region_a", "active"), ("region_b", "backup")):
            link = f"link_{stack}_edge_{component}_{region}"
            assert Edge("edge_haproxy", "==>", f"/{stack} · {role}", link) in chart.edges
            assert Edge(link, "==>", "", f"{region}_{stack}_{component}") in chart.edges


def test_replication_crosses_the_fault_proxy_from_the_other_region_s_node(chart):
    into_a = "link_rag_replication_db_region_a"
    assert Edge("region_b_rag_db", "-.->", "", into_a) in chart.edges
    assert Edge(into_a, "-.->", "", "region_a_rag_db") in chart.edges
    assert "database primary at start" in chart.nodes["region_a_rag_db"]
    assert "database standby at start" in chart.nodes["region_b_rag_db"]
    assert Edge("region_a_rag_api", "-.->", "", "link_rag_sql_db_region_b") in chart.edges


def test_etcd_forms_a_quorum_through_the_witness_beside_the_edge(chart):
    assert chart.parent["edge_rag_etcd"] == "witnesses"
    assert "rag-etcd-w1 127.0.0.1" in chart.nodes["edge_rag_etcd"]
    assert Edge("region_a_rag_etcd", "---", "quorum", "edge_rag_etcd") in chart.edges
    assert Edge("edge_rag_etcd", "---", "quorum", "region_b_rag_etcd") in chart.edges
    assert Edge("region_a_rag_db", "-->", "", "region_a_rag_etcd") in chart.edges


def test_prometheus_scrapes_both_regions_and_the_exporter(chart):
    assert Edge("metrics_prometheus", "-.->", "scrapes", "metrics_resources") in chart.edges
    for region in ("region_a", "region_b"):
        assert Edge("metrics_prometheus", "-.->", "scrapes /metrics", region) in chart.edges


def test_an_active_active_edge_draws_both_regions_active_with_their_weights():
    suite = Suite.model_validate({
        "name": "aa", "stacks": ["tabular"], "replicas": 1, "allow_no_slos": True,
        "edge": {"failover": {"policy": "active-active",
                              "weights": {"region-a": 3, "region-b": 1}}}})
    chart = parse(mermaid(layout_topology(suite)))
    labels = {e.label for e in chart.edges if e.source == "edge_haproxy"}
    assert labels == {"/tabular · active, weight 3", "/tabular · active, weight 1"}
    assert "witnesses" not in chart.subgraphs and "rag" not in "\n".join(chart.labels())


def test_promote_mode_has_no_etcd_and_no_witness():
    suite = Suite.model_validate({"name": "promote", "stacks": ["rag"], "replicas": 1,
                                  "allow_no_slos": True, "load": {"stack": "rag",
                                                                  "endpoint": "ask"},
                                  "database": {"failover": "promote"}})
    chart = parse(mermaid(layout_topology(suite)))
    assert "etcd" not in "\n".join(chart.labels())
    assert "witnesses" not in chart.subgraphs


@pytest.mark.skipif(shutil.which("mmdc") is None, reason="mermaid-cli (mmdc) not on PATH")
def test_mermaid_cli_renders_the_chart(topology, tmp_path: Path):
    source, svg = tmp_path / "chart.mmd", tmp_path / "chart.svg"
    source.write_text(mermaid(topology))
    browser: dict[str, object] = {"args": ["--no-sandbox"]}  # as root Chromium needs it
    if chromium := shutil.which("chromium"):
        browser["executablePath"] = chromium
    (tmp_path / "puppeteer.json").write_text(json.dumps(browser))
    subprocess.run(["mmdc", "-p", str(tmp_path / "puppeteer.json"), "-i", str(source),
                    "-o", str(svg)], check=True, capture_output=True, timeout=120)
    assert svg.stat().st_size > 10_000 and "Syntax error" not in svg.read_text()
