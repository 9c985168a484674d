"""People's tables: the spreadsheets firm lists come in, and CSV that Excel opens safely.

In: CSV in UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), or GB18030
(a superset of GBK, Excel's default for CSV on Chinese Windows); comma, tab or semicolon
separated; or the first sheet of an XLSX workbook. Every row keeps its line (the file line, or
the sheet row, as Excel numbers them: the header is line 1) so that problems can name it.
Out: CSV in UTF-8 with a BOM, text cells that Excel would run as formulas neutralised.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

XLSX_MAGIC = b"PK\x03\x04"  # a zip archive: XLSX (and other OOXML) files
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # OLE2: the legacy binary .xls
SEPARATORS = (",", "\t", ";")
# OWASP "CSV Injection": a cell starting with one of these is a formula to Excel or LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# ...unless the whole cell is a plain number, which Excel reads as that number (so -12.5 stays).
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class TableError(ValueError):
    """The file as a whole cannot be read (encoding, format, size): nothing to name by line."""


@dataclass(frozen=True)
class Table:
    """A table's data rows as text (None for empty cells), the line of each, and bad rows."""

    frame: pd.DataFrame
    lines: np.ndarray
    bad_rows: list[tuple[int, str]]  # (line, why) for rows that could not be split into cells

    def line(self, row: int) -> int:
        """Return the line of the row at position row."""
        return int(self.lines[row])


def decode(raw: bytes) -> str:
    """Decode text by its BOM, else as UTF-8, else as GB18030 (which covers GBK and GB2312)."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise TableError(f"the file starts with a {encoding} byte-order mark but is not {encoding}: {exc}") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("the text is neither UTF-8 nor GB18030/GBK; save it as CSV UTF-8 or as XLSX")


def read(raw: bytes, max_rows: int) -> Table:
    """Read a CSV or XLSX file (told apart by their first bytes) of at most max_rows data rows."""
    if raw.startswith(XLSX_MAGIC):
        return _from_rows(_xlsx_rows(raw), max_rows)
    if raw.startswith(XLS_MAGIC):
        raise TableError("a legacy .xls workbook: save it as .xlsx or as CSV")
    text = decode(raw)
    header = text.split("\n", 1)[0]
    separator = max(SEPARATORS, key=header.count)
    return _from_rows(_csv_rows(text, separator), max_rows)


def _csv_rows(text: str, separator: str):
    """Yield (line, cells) per record; a record with quoted line breaks starts on its first line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    start = 1
    try:
        for cells in reader:
            yield start, [c if c != "" else None for c in cells]
            start = reader.line_num + 1
    except csv.Error as exc:
        raise TableError(f"line {start}: not readable as CSV: {exc}") from None


def _xlsx_rows(raw: bytes):
    """Yield (sheet row, cells as text) of the first sheet of an XLSX workbook."""
    from openpyxl import load_workbook

    # Any failure inside the zip or its XML (openpyxl raises many kinds) means the same to the user.
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        for line, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            yield line, [_cell_text(v) for v in values]  # read-only sheets yield every row from 1
    except Exception as exc:  # noqa: BLE001
        raise TableError(f"not a readable XLSX workbook: {exc}") from None


def _cell_text(value) -> str | None:
    """A spreadsheet cell as the text a CSV would hold (whole floats without '.0')."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _from_rows(rows, max_rows: int) -> Table:
    """Build the table from (line, cells): the first non-blank row is the header; blank rows are
    skipped; a row with more non-empty cells than the header is a bad row; missing cells are empty."""
    rows = ((line, cells) for line, cells in rows if any(c is not None and c.strip() for c in cells))
    try:
        _, header = next(rows)
    except StopIteration:
        raise TableError("the file holds no header row") from None
    while header and header[-1] is None:  # trailing empty header cells (Excel's used range)
        header.pop()
    names = [(c or "").strip() or f"column {i}" for i, c in enumerate(header, start=1)]
    width = len(names)
    data, lines, bad = [], [], []
    for line, cells in rows:
        if len(data) + len(bad) >= max_rows:
            raise TableError(f"more than {max_rows:,} rows: split the list (the limit keeps the service responsive)")
        extra = [c for c in cells[width:] if c is not None]
        if extra:
            bad.append((line, f"has {width + len(extra)} or more cells; the header has {width}"))
            continue
        data.append(cells[:width] + [None] * (width - len(cells)))
        lines.append(line)
    frame = pd.DataFrame(data, columns=names, dtype=object)
    return Table(frame, np.asarray(lines, dtype=np.int64), bad)


def neutralise(value):
    """Prefix a text cell Excel would run as a formula with a quote (OWASP); plain numbers and
    non-text values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def to_csv(frame: pd.DataFrame) -> bytes:
    """Render a frame as CSV for Excel: UTF-8 with BOM, CRLF, formula-like text cells neutralised."""
    safe = frame.copy()
    for name in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[name]):  # object or string dtype: text may lurk
            safe[name] = safe[name].map(neutralise)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    # CRLF, Excel's own line end: cells holding a CR or LF are then quoted, never split rows
    return codecs.BOM_UTF8 + safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
