"""Exports that stream: rows read from the database in batches and sent as CSV, JSON Lines
(or a JSON array), so an export of any size never sits in memory as one body.

The handler's unit of work commits before the response is sent (see
:func:`chainfin.api.deps.get_session`), so a stream reads in a read-only transaction of its
own, opened by :func:`stream_rows` and closed when the last row is sent (or the client goes
away). The rows are produced by a service function that checks the principal when it is
called — before the 200 goes out — and reads lazily as the iterator is consumed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.formats.tabular import TabularFormat, iter_rows
from chainfin.api.schemas import schema_ref

MEDIA = {
    TabularFormat.CSV: "text/csv",
    TabularFormat.JSON: "application/json",
    TabularFormat.JSONL: "application/x-ndjson",
}


def streamed(
    row: type[BaseModel],
    *formats: TabularFormat,
    array: type[BaseModel] | None = None,
    description: str,
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a streamed export, in OpenAPI: CSV as text (a header line, then
    the columns of ``row``), JSON Lines as one ``row`` per line, a JSON array as ``array``."""
    schemas = {
        TabularFormat.CSV: {"type": "string"},
        TabularFormat.JSONL: schema_ref(row),
        TabularFormat.JSON: schema_ref(array or row),
    }
    content = {MEDIA[f]: {"schema": schemas[f]} for f in formats}
    return {200: {"description": description, "content": content}}


def stream_rows(
    request: Request,
    rows: Callable[[Session], Iterable[Any]],
    fmt: TabularFormat,
    columns: Sequence[str],
    *,
    filename: str,
    as_row: Callable[[Any], dict[str, Any]] = dict,
) -> StreamingResponse:
    """Answer with ``rows(session)`` encoded in ``fmt``, read in a transaction that lives as
    long as the response streams. ``rows`` raises at once if the principal may not read
    them (the answer is then the usual problem, not a broken stream)."""
    stack = ExitStack()
    session = stack.enter_context(transaction(request.app.state.session_factory, write=False))
    try:
        source = iter(rows(session))
    except BaseException:
        stack.close()
        raise

    def body() -> Iterator[bytes]:
        with stack:
            yield from iter_rows((as_row(r) for r in source), fmt, columns)

    return StreamingResponse(
        body(),
        media_type=f"{MEDIA[fmt]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt.value}"'},
    )
