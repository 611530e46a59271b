"""CSV and JSON rows in and out, with size limits and precise errors.

Row numbers are what a person sees: in CSV the header is line 1, so the first record is row
2 (as in a spreadsheet); in JSON (an array of objects, or JSON Lines) the first object is
row 1.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chainfin.domain.errors import FieldError, ValidationFailed

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000


class TabularFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"

    @classmethod
    def from_filename(cls, name: str) -> TabularFormat:
        suffix = name.rsplit(".", 1)[-1].lower()
        try:
            return cls(suffix)
        except ValueError:
            raise ValidationFailed(
                [
                    FieldError(
                        "format", f"cannot tell the format of {name!r}; use csv, json or jsonl"
                    )
                ],
                code="file_format_unknown",
            ) from None


@dataclass(frozen=True)
class Rows:
    rows: list[dict[str, object]]
    first_row: int  # the row number of rows[0]


def _fail(reason: str, row: int | None = None, field: str = "file") -> ValidationFailed:
    return ValidationFailed([FieldError(field, reason, row)])


def read_rows(data: bytes, fmt: TabularFormat) -> Rows:
    if len(data) > MAX_BYTES:
        raise _fail(f"larger than {MAX_BYTES // (1024 * 1024)} MiB; split the batch")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(f"not UTF-8 text (byte {exc.start})") from None
    if fmt is TabularFormat.CSV:
        return _read_csv(text)
    if fmt is TabularFormat.JSONL:
        rows: list[dict[str, object]] = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                rows.append(_object(_loads(line, n), n))
        return Rows(_limit(rows), 1)
    value = _loads(text, None)
    if not isinstance(value, list):
        raise _fail("a JSON import must be an array of objects")
    return Rows(_limit([_object(item, i) for i, item in enumerate(value, start=1)]), 1)


def _loads(text: str, row: int | None) -> Any:
    # jsonbound counts nesting with numpy: imported on first use, so that naming a format
    # (TabularFormat, e.g. in a CLI option) does not load numpy.
    from chainfin.adapters.formats import jsonbound

    try:
        return jsonbound.loads(text)
    except jsonbound.TooDeep as exc:
        raise _fail(str(exc), row) from None
    except json.JSONDecodeError as exc:
        raise _fail(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", row
        ) from None
    except ValueError:  # an integer of more digits than int() converts (4300)
        raise _fail("invalid JSON: a number has too many digits", row) from None


def _object(value: Any, row: int) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _fail("each item must be a JSON object", row)
    return value


def _limit(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    if len(rows) > MAX_ROWS:
        raise _fail(f"more than {MAX_ROWS} rows; split the batch")
    if not rows:
        raise _fail("no rows")
    return rows


def _read_csv(text: str) -> Rows:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise _fail("empty file: a header line is required") from None
    except csv.Error as exc:  # a header field over csv.field_size_limit()
        raise _fail(f"malformed CSV: {exc}", 1) from None
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise _fail(f"duplicate column(s) in header: {', '.join(dupes)}", 1)
    rows: list[dict[str, object]] = []
    try:
        for line in reader:
            if not any(cell.strip() for cell in line):
                rows.append({})  # keep numbering; blank rows are skipped below
                continue
            if len(line) != len(header):
                raise _fail(
                    f"has {len(line)} fields, the header has {len(header)}", reader.line_num
                )
            rows.append({k: v for k, v in zip(header, line, strict=True) if v != ""})
    except csv.Error as exc:
        raise _fail(f"malformed CSV: {exc}", reader.line_num) from None
    # Blank lines carry no record; drop them only when trailing so row numbers stay true.
    while rows and rows[-1] == {}:
        rows.pop()
    if any(r == {} for r in rows):
        blank = next(i for i, r in enumerate(rows) if r == {}) + 2
        raise _fail("blank line inside the data", blank)
    return Rows(_limit(rows), 2)


def write_rows(rows: Iterable[dict[str, Any]], fmt: TabularFormat, columns: Sequence[str]) -> bytes:
    if fmt is TabularFormat.JSON:
        clean = [_present(row, columns) for row in rows]
        return json.dumps(clean, ensure_ascii=False, indent=1).encode("utf-8")
    return b"".join(iter_rows(rows, fmt, columns))


def iter_rows(
    rows: Iterable[dict[str, Any]], fmt: TabularFormat, columns: Sequence[str]
) -> Iterator[bytes]:
    """``rows`` encoded one at a time, for a response that streams: CSV (a header line,
    then a line per row), JSON Lines, or a JSON array written element by element."""
    if fmt is TabularFormat.CSV:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        yield _drain(buf)
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
            yield _drain(buf)
        return
    if fmt is TabularFormat.JSONL:
        for row in rows:
            yield (json.dumps(_present(row, columns), ensure_ascii=False) + "\n").encode("utf-8")
        return
    separator = "[\n"
    for row in rows:
        yield (separator + json.dumps(_present(row, columns), ensure_ascii=False)).encode("utf-8")
        separator = ",\n"
    yield b"[]\n" if separator == "[\n" else b"\n]\n"


def _present(row: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    return {k: row.get(k) for k in columns if row.get(k) is not None}


def _drain(buf: io.StringIO) -> bytes:
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text.encode("utf-8")
