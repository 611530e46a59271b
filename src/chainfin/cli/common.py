"""What every ``chainfin`` subcommand shares: consoles, the operator's session, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from chainfin.adapters.db import crypto
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.config import get_settings
from chainfin.domain.errors import ChainfinError, ValidationFailed

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def database_url() -> str:
    return get_settings().database_url


@contextmanager
def operator_session() -> Iterator[Session]:
    """One transaction on CHAINFIN_DATABASE_URL, with the data keys installed."""
    crypto.configure(FieldCipher.from_spec(get_settings().data_key_spec()))
    engine = make_engine(database_url())
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def print_json(body: Any) -> None:
    print(json.dumps(body, ensure_ascii=False, indent=1))  # noqa: T201 - machine output


def fail(exc: ChainfinError, as_json: bool = False) -> NoReturn:
    if as_json:
        body: dict[str, Any] = {"code": exc.code, "detail": exc.message}
        if isinstance(exc, ValidationFailed):
            body["errors"] = [e.as_dict() for e in exc.errors]
        print_json(body)
    else:
        err.print(f"[red]error[/red] ({exc.code}): {exc.message}")
        if isinstance(exc, ValidationFailed):
            for e in exc.errors:
                err.print(f"  {e}")
        if exc.hint:
            err.print(exc.hint)
    raise typer.Exit(1)
