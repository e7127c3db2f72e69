"""The report builder: from a run folder to ``summary.json``, ``report.html`` and ``junit.xml``
(``gameday report runs/<id>`` calls ``build_reports``)."""

from reports.build import build_reports
from reports.summary import SCHEMA, Summary

__all__ = ["SCHEMA", "Summary", "build_reports"]
