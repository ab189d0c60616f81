"""Notebook views: iocz objects as small HTML documents (``_repr_html_``).

Each view renders the :class:`~iocz.describe.Facts` that ``iocz inspect`` prints, so a notebook
and the terminal show the same facts; long tables are cut at :data:`ROWS` rows (with a count
of the rest). Views hold only public facts (fingerprints, sizes, options, scan metadata,
decrypted counts for the agency) and do no FHE work.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from iocz import _iocz
from iocz.describe import (
    Facts,
    Lines,
    Table,
    decrypted_facts,
    import_facts,
    key_facts,
    query_facts,
    result_facts,
    set_facts,
)

#: Most rows a view lists per table.
ROWS = 50

_CELL = 'style="text-align:left; vertical-align:top"'

#: The facts of the package's classes, by (module, class name).
_BY_CLASS: dict[tuple[str, str], Callable[[Any], Facts]] = {
    ("iocz.query_bundle", "Query"): query_facts,
    ("iocz.result_bundle", "Result"): lambda r: result_facts(r, limit=ROWS),
    ("iocz.result_bundle", "Decrypted"): lambda d: decrypted_facts(d, limit=ROWS),
    ("iocz.importers.core", "ImportReport"): import_facts,
}


def _table_html(table: Table) -> str:
    head = "".join(f"<th {_CELL}>{escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td {_CELL}>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    more = f"<p><i>… {table.more:,} more rows</i></p>" if table.more else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _lines_html(lines: Lines) -> str:
    if lines.code:
        return "".join(f"<pre>{escape(text)}</pre>" for text in lines.lines)
    return "<ul>" + "".join(f"<li>{escape(text)}</li>" for text in lines.lines) + "</ul>"


def facts_html(facts: Facts) -> str:
    """The facts as HTML: heading, a table of fields, then one open ``<details>`` per part."""
    out = [f'<div class="iocz-view"><p><b>{escape(facts.heading)}</b></p>']
    if facts.fields:
        rows = "".join(f"<tr><th {_CELL}>{escape(k)}</th><td {_CELL}>{escape(v)}</td></tr>" for k, v in facts.fields)
        out.append(f"<table><tbody>{rows}</tbody></table>")
    for part in facts.parts:
        if isinstance(part, Table) and part.rows:
            body = _table_html(part)
        elif isinstance(part, Lines) and part.lines:
            body = _lines_html(part)
        else:
            continue
        out.append(f"<details open><summary>{escape(part.title)}</summary>{body}</details>")
    return "".join(out) + "</div>"


def facts_of(obj: object) -> Facts:
    """The facts a view shows for any iocz object (``TypeError`` for anything else). The
    package's classes are found by name, so this module does not import the modules whose
    ``_repr_html_`` call it."""
    describe = _BY_CLASS.get((type(obj).__module__, type(obj).__name__))
    if describe is not None:
        return describe(obj)
    if isinstance(obj, _iocz.ClientKey | _iocz.ServerKey | _iocz.PublicKey):
        return key_facts(obj)
    if isinstance(obj, _iocz.EncryptedSet):
        return set_facts(obj)
    raise TypeError(f"no iocz view for {type(obj).__name__}")


def html_of(obj: object) -> str:
    """The HTML view of an iocz object (what Jupyter shows for it)."""
    return facts_html(facts_of(obj))
