"""``junit.xml``: one test suite per scenario plus a "run" suite for run-wide SLOs, one test case
per SLO, so CI shows each breach by name. Harness trouble shows up as an ``<error>`` case."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from gameday.measure import SloResult
from reports.summary import ScenarioOutcome, Summary

__all__ = ["RUN_SUITE", "junit_tree", "junit_xml"]

RUN_SUITE = "run"


def junit_xml(summary: Summary) -> str:
    root = junit_tree(summary)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def junit_tree(summary: Summary) -> ET.Element:
    root = ET.Element("testsuites", name=f"gameday:{summary.suite.name}")
    run_suite = _suite(root, summary, RUN_SUITE, [s for s in summary.slos if not s.scenario])
    if summary.verdict == "error":
        _error_case(run_suite, summary, "harness", "harness_error", summary.reason)
    if summary.health.saturated:
        _error_case(run_suite, summary, "generator", "generator_saturated", summary.reason)
    for outcome in summary.scenarios:
        suite = _suite(root, summary, outcome.name,
                       [s for s in summary.slos if s.scenario == outcome.name])
        _scenario_properties(suite, outcome)
    _count(root, root.findall("testsuite"))
    return root


def _suite(root: ET.Element, summary: Summary, name: str,
           results: Sequence[SloResult]) -> ET.Element:
    suite = ET.SubElement(root, "testsuite", name=name)
    for result in results:
        case = ET.SubElement(suite, "testcase", name=result.name,
                             classname=_classname(summary, name), time="0")
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=result.message, type="slo_breach")
            failure.text = _details(result)
        else:
            ET.SubElement(case, "system-out").text = result.message
    _count(suite, suite.findall("testcase"))
    return suite


def _error_case(suite: ET.Element, summary: Summary, name: str, kind: str, message: str) -> None:
    case = ET.SubElement(suite, "testcase", name=name, classname=_classname(summary, RUN_SUITE),
                         time="0")
    ET.SubElement(case, "error", message=message, type=kind)
    _count(suite, suite.findall("testcase"))


def _scenario_properties(suite: ET.Element, outcome: ScenarioOutcome) -> None:
    properties = ET.Element("properties")
    values = {
        "target_region": outcome.target_region,
        "journal_status": outcome.journal.status,
        "journal_deviated": str(outcome.journal.deviated),
        "fault_started": str(outcome.window is not None),
    }
    if outcome.rto is not None:
        for field in ("rto_s", "detect_s", "failover_s", "resolution_s"):
            value = getattr(outcome.rto, field)
            values[field] = "" if value is None else f"{value:.3f}"
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=value)
    suite.insert(0, properties)  # the schema wants properties before the test cases


def _count(element: ET.Element, children: Sequence[ET.Element]) -> None:
    """Set tests/failures/errors from the children (test cases or test suites)."""
    if element.tag == "testsuites":
        totals = {key: sum(int(child.get(key, "0")) for child in children)
                  for key in ("tests", "failures", "errors")}
    else:
        totals = {"tests": len(children),
                  "failures": sum(1 for c in children if c.find("failure") is not None),
                  "errors": sum(1 for c in children if c.find("error") is not None)}
    for key, total in totals.items():
        element.set(key, str(total))
    if element.tag == "testsuite":
        element.set("skipped", "0")
        element.set("time", "0")


def _classname(summary: Summary, suite_name: str) -> str:
    return f"gameday.{summary.suite.name}.{suite_name}"


def _details(result: SloResult) -> str:
    measured = "none" if result.measured is None else f"{result.measured:.6g}"
    scope = f" scope={result.scope}" if result.scope else ""
    return (f"kind={result.kind}{scope} objective={result.objective:.6g} measured={measured}\n"
            f"{result.message}")
