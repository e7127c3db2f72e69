"""The architecture diagram, generated from the local platform's topology (not drawn by hand):
``gameday architecture`` writes ``docs/architecture.md``, and a test fails when that file is
not what the generator makes now."""

from gameday.architecture.chart import mermaid
from gameday.architecture.document import REGENERATE, architecture_markdown
from gameday.architecture.layout import default_suite, layout_topology

__all__ = ["REGENERATE", "architecture_markdown", "default_suite", "layout_topology",
           "mermaid"]
