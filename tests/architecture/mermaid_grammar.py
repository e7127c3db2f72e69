"""A strict reader of the Mermaid subset ``gameday.architecture.chart`` writes: every line must
be one of a handful of statement shapes, subgraphs must nest, ids must be unique and not
Mermaid keywords, every edge must join defined ids, labels may hold only ``<b>`` and
``<br/>`` markup. Anything else fails, so a change to the generator that Mermaid might
misread fails here first (mermaid-cli is not part of the toolchain)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Chart", "Edge", "parse"]

_KEYWORDS = {"end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click",
             "direction", "linkstyle", "call", "href"}
_ID = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = r'"([^"]*)"'
_NODE = re.compile(rf"^({_ID})(\[|\(\[){_LABEL}(\]|\]\))$")
_SUBGRAPH = re.compile(rf"^subgraph ({_ID})\[{_LABEL}\]$")
_EDGE = re.compile(rf"^({_ID}) (-->|==>|-\.->|---)(?:\|{_LABEL}\|)? ({_ID})$")
_MARKUP = re.compile(r"<[^>]*>")
_ALLOWED_MARKUP = {"<b>", "</b>", "<br/>"}


@dataclass(frozen=True)
class Edge:
    source: str
    arrow: str
    label: str
    target: str


@dataclass
class Chart:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> label
    subgraphs: dict[str, str] = field(default_factory=dict)  # id -> label
    parent: dict[str, str | None] = field(default_factory=dict)  # id -> enclosing subgraph
    edges: list[Edge] = field(default_factory=list)

    def labels(self) -> list[str]:
        return [*self.nodes.values(), *self.subgraphs.values()]


def parse(text: str) -> Chart:
    lines = text.splitlines()
    assert lines and lines[0] == "flowchart LR", f"first line: {lines[:1]}"
    chart, stack = Chart(), []
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        assert raw == raw.rstrip() and line, f"line {number}: blank or trailing space"
        if line == "end":
            assert stack, f"line {number}: end without subgraph"
            stack.pop()
        elif match := _SUBGRAPH.match(line):
            _define(chart, number, match[1], match[2], chart.subgraphs, stack)
            stack.append(match[1])
        elif match := _NODE.match(line):
            assert (match[2], match[4]) in (("[", "]"), ("([", "])")), f"line {number}: shape"
            _define(chart, number, match[1], match[3], chart.nodes, stack)
        elif match := _EDGE.match(line):
            chart.edges.append(Edge(match[1], match[2], match[3] or "", match[4]))
            if match[3] is not None:
                _check_label(number, match[3])
        else:
            raise AssertionError(f"line {number}: not a statement of the subset: {line!r}")
    assert not stack, f"subgraphs left open: {stack}"
    known = {*chart.nodes, *chart.subgraphs}
    for edge in chart.edges:
        assert {edge.source, edge.target} <= known, f"edge to an undefined id: {edge}"
    return chart


def _define(chart: Chart, number: int, ident: str, label: str, table: dict[str, str],
            stack: list[str]) -> None:
    assert ident.lower() not in _KEYWORDS, f"line {number}: id {ident!r} is a keyword"
    assert ident not in chart.nodes and ident not in chart.subgraphs, \
        f"line {number}: id {ident!r} defined twice"
    _check_label(number, label)
    table[ident] = label
    chart.parent[ident] = stack[-1] if stack else None


def _check_label(number: int, label: str) -> None:
    assert label.strip(), f"line {number}: empty label"
    assert "#" not in label and ";" not in label, f"line {number}: entity-like text: {label}"
    for tag in _MARKUP.findall(label):
        assert tag in _ALLOWED_MARKUP, f"line {number}: markup {tag!r} in {label!r}"
