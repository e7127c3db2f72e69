"""What would make a browser fetch something when it opens a page: the pages we write must be
one self-contained file (a report is mailed, attached to a CI job, opened offline)."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["ExternalReferences", "external_references"]


class ExternalReferences(HTMLParser):
    """Collects every tag attribute that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for attribute in ("src", "href"):
            value = values.get(attribute) or ""
            if value.startswith(("http://", "https://", "//")):
                self.found.append(f"<{tag} {attribute}={value}>")
        if tag == "script" and "src" not in values:
            self.inline_scripts += 1


def external_references(html: str) -> ExternalReferences:
    parser = ExternalReferences()
    parser.feed(html)
    return parser
