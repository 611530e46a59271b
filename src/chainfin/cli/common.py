"""What every ``chainfin`` subcommand shares: consoles, the operator's session, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError
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
    """One transaction on CHAINFIN_DATABASE_URL, with the data keys installed. It commits
    when the ``with`` block ends, so a command reports success *after* the block, never
    inside it (``tests/test_cli_commit.py`` holds every command to that). A commit that
    fails is an error: one line on stderr and exit status 1, nothing written."""
    crypto.configure(FieldCipher.from_spec(get_settings().data_key_spec()))
    engine = make_engine(database_url())
    committing = False
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
            committing = True
    except SQLAlchemyError as exc:
        if not committing:
            raise
        reason = getattr(exc, "orig", None) or exc
        err.print(f"[red]error[/red] (not-committed): nothing was written: {escape(str(reason))}")
        raise typer.Exit(1) from None
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
