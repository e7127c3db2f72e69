"""An HTML table of the report page: escaped cells, a status column styled by row, and ids on
the cells a test or a script looks up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

__all__ = ["cell", "table"]


def table(headers: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]], *,
          empty: str = "nothing to show", status_column: int | None = None,
          ids: Mapping[int, str] | None = None, row_keys: Sequence[str] = ()) -> str:
    """``ids``: column -> id pattern filled with the row's key, so a test (or a script) can
    find one figure of the page: ``{5: "rto-{}"}`` gives ``<td id="rto-<scenario>">``."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    body = []
    for number, (css, cells) in enumerate(rows):
        key = row_keys[number] if number < len(row_keys) else ""
        tds = "".join(cell(text, index == status_column,
                           (ids or {}).get(index, "").format(key) if key else "")
                      for index, text in enumerate(cells))
        body.append(f'<tr class="{css}">{tds}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{max(len(headers), 1)}">{escape(empty)}</td></tr>')
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def cell(text: str, is_status: bool, cell_id: str = "") -> str:
    css = ' class="status"' if is_status else ""
    identity = f' id="{escape(cell_id)}"' if cell_id else ""
    return f"<td{identity}{css}>{escape(text)}</td>"
