"""Plain one-per-line IOC lists and CSV files (``type,value[,label]``, also MISP's CSV export)."""

from __future__ import annotations

import csv
import io

from iocz.importers.core import NON_DETECTION, NOTE_INCLUDED, ImportReport, Skipped, add, guess, is_false_flag, resolve

MISP_TO_IDS_FALSE = f"{NON_DETECTION}: MISP to_ids is false"


def read_list(text: str, source: str, ioc_type: str | None = None) -> ImportReport:
    """One IOC per line (``#`` comments and blank lines ignored); type given or guessed;
    defanged values refanged (noted)."""
    report = ImportReport()
    lines = 0
    for n, line in enumerate(text.splitlines(), 1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        lines += 1
        resolved = resolve(ioc_type, value) if ioc_type else guess(value)
        add(report, resolved, value, "", f"{source}:{n}")
    if not lines:
        raise ValueError(f"{source}: no IOCs found (read as a plain list: no line other than blanks and # comments)")
    return report


def read_csv(
    text: str, source: str, ioc_type: str | None = None, *, include_non_detection: bool = False
) -> ImportReport:
    """CSV with a header holding ``value`` and ``type`` (or an explicit type), optional ``label``
    (else ``comment``) and ``to_ids`` (MISP's CSV export: rows with a false ``to_ids`` are not
    for detection and skipped unless ``include_non_detection``)."""
    try:
        return _read_csv(text, source, ioc_type, include_non_detection)
    except csv.Error as e:
        raise ValueError(f"{source}: invalid CSV: {e}") from None


def _read_csv(text: str, source: str, ioc_type: str | None, include_non_detection: bool) -> ImportReport:
    report = ImportReport()
    rows = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower(): f for f in rows.fieldnames or []}
    if "value" not in fields or ("type" not in fields and ioc_type is None):
        raise ValueError(f"{source}: a CSV of IOCs needs 'type' and 'value' columns")
    label_field = fields.get("label") or fields.get("comment")
    count = 0
    for n, row in enumerate(rows, 2):
        count += 1
        where = f"{source}:{n}"
        value = (row.get(fields["value"]) or "").strip()
        type_name = ioc_type or (row.get(fields["type"]) or "").strip()
        label = (row.get(label_field) or "").strip() if label_field else ""
        if not value:
            report.skipped.append(Skipped(where, "", "empty value"))
            continue
        resolved = resolve(type_name, value)
        notes = []
        if "to_ids" in fields and is_false_flag(row.get(fields["to_ids"])) and not isinstance(resolved, str):
            if not include_non_detection:
                report.skipped.append(Skipped(where, value, MISP_TO_IDS_FALSE))
                continue
            notes.append((NOTE_INCLUDED, "MISP to_ids is false"))
        add(report, resolved, value, label, where, notes)
    if not count:
        raise ValueError(f"{source}: no IOCs found (read as CSV: a header and no rows)")
    return report
