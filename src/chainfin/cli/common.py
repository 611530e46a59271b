"""What every ``chainfin`` subcommand shares: consoles, the operator's session, errors,
tables, JSON output and progress bars.

Importing this module stays cheap (typer, rich and the domain's errors): the database, the
services and the modelling libraries are imported inside the commands that use them, so
``chainfin --help`` and a simple read start fast (``bench/cli_start.py`` measures it, and
``tests/test_cli_start.py`` holds the command modules to it).

Output rules, for every command:

* people get text and tables that fit the terminal (:func:`table`): names rather than ids
  where a name exists (:func:`name_of`), amounts in full with thousands separators
  (:func:`money`), dates ``YYYY-MM-DD``;
* ``--json`` prints the resource and nothing else (:func:`print_json`, lists as
  ``{"items": [...], "next_cursor": ...}`` through :func:`print_page`); JSON is never
  printed without it;
* errors are one line on stderr with what to do (:func:`fail`), never a traceback: the
  root command (:class:`ChainfinGroup`) turns any :class:`ChainfinError`, and a database
  that is missing or behind the code, into that line and exit status 1.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.main import (
    get_command_from_info,
    get_command_name,
    get_group_from_info,
    solve_typer_info_defaults,
)
from typer.models import TyperInfo

from chainfin.domain.errors import ChainfinError, ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def group(help: str, **settings: Any) -> typer.Typer:
    """A command group as every ``chainfin`` group is: help printed when no command is given,
    in plain text that wraps to the terminal (rich's panels would keep the docstrings' line
    breaks and break lines mid-sentence at 80 columns). An unexpected error's traceback is
    shown without local variables: they are long and may hold passwords and keys."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_show_locals=False,
        **settings,
    )


# ---------------------------------------------------------------------------- database


class DatabaseMissing(ChainfinError):
    """The database a command reads does not exist (a SQLite file that is not there)."""

    code = "database_missing"


class DatabaseNotMigrated(ChainfinError):
    """The database is at an older (or no) migration than the code expects."""

    code = "database_not_migrated"


class DatabaseError(ChainfinError):
    """The database refused the command (locked, unreachable, out of space, ...)."""

    code = "database_error"


UPGRADE_HINT = "run `chainfin db upgrade` (it creates and migrates the database)"
URL_HINT = "or set CHAINFIN_DATABASE_URL to the database you mean"


def database_url() -> str:
    from chainfin.config import get_settings

    return get_settings().database_url


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite database file (a relative one is resolved against the
    working directory, as SQLite does), or None for PostgreSQL and in-memory SQLite."""
    from sqlalchemy.engine import make_url

    from chainfin.adapters.db.engine import normalise_url

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def where(url: str) -> str:
    """The database as a person should see it: an absolute path, or the URL without its
    password."""
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    head, sep, tail = url.partition("@")
    return f"{head.split(':')[0]}://***@{tail}" if sep else url


def require_database(url: str) -> None:
    """Refuse to run on a SQLite file that does not exist: opening it would create an
    empty database and every query would fail on a missing table."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseMissing(f"no database at {path}", hint=f"{UPGRADE_HINT}, {URL_HINT}")


def diagnose(exc: BaseException, url: str | None = None) -> ChainfinError | None:
    """What a database error means for the person at the terminal: the database is behind
    the code (with the revisions and the command that fixes it), or it refused with a
    reason. None when ``exc`` is not a database error."""
    import sys

    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, sa_exc.DBAPIError):
        return None
    url = url or database_url()
    try:
        from chainfin.adapters.db import migrate
        from chainfin.adapters.db.engine import make_engine

        engine = make_engine(url)
        try:
            current = migrate.current_revision(engine)
        finally:
            engine.dispose()
        head = migrate.head_revision()
    except Exception:  # noqa: BLE001 - diagnosing must not hide the original error
        current = head = None
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if head is not None and current != head:
        return DatabaseNotMigrated(
            f"database at {where(url)} is at revision {current or 'none (empty)'}, "
            f"code expects {head}",
            hint=UPGRADE_HINT,
        )
    if isinstance(exc, sa_exc.OperationalError):
        return DatabaseError(f"database at {where(url)}: {reason}")
    return None


@contextmanager
def operator_session() -> Iterator[Session]:
    """One transaction on CHAINFIN_DATABASE_URL, with the data keys installed. It commits
    when the ``with`` block ends, so a command reports success *after* the block, never
    inside it (``tests/test_cli_commit.py`` holds every command to that). A commit that
    fails is an error: one line on stderr and exit status 1, nothing written. A SQLite file
    that does not exist is refused (:func:`require_database`), never created."""
    from sqlalchemy.exc import SQLAlchemyError

    from chainfin.adapters.db import crypto
    from chainfin.adapters.db.crypto import FieldCipher
    from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
    from chainfin.config import get_settings

    url = database_url()
    require_database(url)
    crypto.configure(FieldCipher.from_spec(get_settings().data_key_spec()))
    engine = make_engine(url)
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


# ---------------------------------------------------------------------------- errors


def fail(exc: ChainfinError, as_json: bool = False) -> NoReturn:
    """End the command on a refusal: with ``--json`` the problem as JSON on stdout, else its
    :meth:`~ChainfinError.diagnostics` on stderr (the code, what went wrong, each field at
    fault, what to do). Exit status 1."""
    if as_json:
        body: dict[str, Any] = {"code": exc.code, "detail": exc.message}
        if isinstance(exc, ValidationFailed):
            body["errors"] = [e.as_dict() for e in exc.errors]
        print_json(body)
    else:
        message, _, hint = exc.diagnostics().partition("\n")
        err.print(f"[red]error[/red] ({exc.code}): {escape(message)}")
        if isinstance(exc, ValidationFailed):
            for e in exc.errors:
                err.print(f"  {escape(str(e))}")
        if hint:
            err.print(escape(hint))
    raise typer.Exit(1)


JSON_FLAG = "chainfin.json"

# ``Any`` below is a Click command: Typer's own (typer._click), which it does not export.


class Subcommands(MutableMapping[str, Any]):
    """A group's subcommands by name, in the order they were added, each built by Typer
    (which reads every parameter of the command's function) the first time it is looked up:
    ``chainfin loan list`` builds ``loan`` and ``list``, not the other 140 commands. The
    names are known without building anything; ``--help`` builds the commands it lists."""

    def __init__(self, built: Mapping[str, Any] | None = None) -> None:
        self._make: dict[str, Callable[[], Any]] = {}
        self._built: dict[str, Any] = {}
        for name, command in (built or {}).items():
            self[name] = command

    def defer(self, name: str, make: Callable[[], Any]) -> None:
        """Add ``name``, built by ``make()`` when first looked up."""
        self._built.pop(name, None)
        self._make[name] = make

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._make[name]()
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._make[name] = lambda: command
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._make[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._make)

    def __len__(self) -> int:
        return len(self._make)


def lazy_group(info: TyperInfo, **settings: Any) -> TyperGroup:
    """The group Typer builds for ``parent.add_typer(...)``'s ``info`` with ``settings``
    (``pretty_exceptions_short``, ``rich_markup_mode``, ``suggest_commands``), except that
    its commands and groups are :class:`Subcommands`: each is built, down the tree, only
    when it is looked up."""
    app = info.typer_instance
    if app is None:
        raise TypeError("a command group is a Typer added with add_typer")
    # Typer builds the group itself (its help, callback and options) from a copy that has
    # no commands; they are added below.
    bare = copy.copy(app)
    bare.registered_commands, bare.registered_groups = [], []
    shell = copy.copy(info)
    shell.typer_instance = bare
    group = get_group_from_info(shell, **settings)
    commands = Subcommands()
    for command in app.registered_commands:
        if command.callback is None:
            raise TypeError("a command is a function added with @group.command()")
        commands.defer(
            command.name or get_command_name(command.callback.__name__),
            partial(
                get_command_from_info,
                command,
                pretty_exceptions_short=settings["pretty_exceptions_short"],
                rich_markup_mode=settings["rich_markup_mode"],
            ),
        )
    defer_groups(commands, app.registered_groups, **settings)
    group.commands = commands
    return group


def defer_groups(commands: Subcommands, groups: Sequence[TyperInfo], **settings: Any) -> None:
    """Add ``groups`` (a Typer's ``registered_groups``) to ``commands``, each built by
    :func:`lazy_group` when first looked up."""
    for info in groups:
        name = solve_typer_info_defaults(info).name
        if not name:  # Typer would merge an unnamed group's commands into its parent's
            raise TypeError("every chainfin command group is added with a name")
        commands.defer(name, partial(lazy_group, info, **settings))


class ChainfinGroup(TyperGroup):
    """The ``chainfin`` command: whatever a subcommand raises as a :class:`ChainfinError`,
    or a database error, ends it with one diagnosis (see :func:`fail`) and exit status 1
    instead of a traceback.

    Its command groups are the groups added to :attr:`groups` (a Typer that is never run
    itself), listed after the root's own commands: each is built only when it is invoked or
    listed, by :func:`lazy_group`, so that a command starts without Typer reading the
    parameters of every other one. (Groups added to the root Typer with ``add_typer`` work
    too, but Typer builds all of their commands on every start.)"""

    groups: ClassVar[typer.Typer | None] = None

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        commands = Subcommands(self.commands)
        if self.groups is not None:
            defer_groups(
                commands,
                self.groups.registered_groups,
                pretty_exceptions_short=self.groups.pretty_exceptions_short,
                rich_markup_mode=self.rich_markup_mode,
                suggest_commands=self.suggest_commands,
            )
        self.commands = commands

    # ``ctx`` is Typer's own click Context (typer._click), which it does not export.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[JSON_FLAG] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        as_json = bool(ctx.meta.get(JSON_FLAG))
        try:
            return super().invoke(ctx)
        except ChainfinError as exc:
            fail(exc, as_json)
        except Exception as exc:
            diagnosis = diagnose(exc)
            if diagnosis is None:
                raise
            fail(diagnosis, as_json)


# ---------------------------------------------------------------------------- JSON


def jsonable(value: Any) -> Any:
    """``value`` as JSON types: models as their JSON dump, dates ISO 8601, enums by value,
    decimals as numbers (as FastAPI's encoder does for the services' ``*_out`` shapes)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, PurePath):
        return str(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    return str(value)


def print_json(body: Any) -> None:
    print(json.dumps(jsonable(body), ensure_ascii=False, indent=1))  # noqa: T201 - machine output


def page(items: Sequence[Any], next_cursor: str | None = None) -> dict[str, Any]:
    """A list as the API answers it: ``{"items": [...], "next_cursor": ...}``."""
    return {"items": list(items), "next_cursor": next_cursor}


def print_page(items: Sequence[Any], next_cursor: str | None = None) -> None:
    print_json(page(items, next_cursor))


def page_of(found: Any, build: Callable[[Any], Any]) -> dict[str, Any]:
    """A service's ``Page`` of rows as the API answers it, each row through ``build`` (a
    resource's ``build``): ``{"items": [...], "next_cursor": ...}``."""
    return {
        "items": [jsonable(build(row)) for row in found.items],
        "next_cursor": found.next_cursor,
    }


def more(body: Mapping[str, Any]) -> None:
    """Under a page printed for people: how to get the next one."""
    if body.get("next_cursor"):
        out.print(f"more: run again with --cursor {body['next_cursor']}")


LimitOpt = Annotated[int, typer.Option(help="at most this many (1 to 500)")]
CursorOpt = Annotated[str | None, typer.Option(help="the next page: the cursor the last one gave")]


# ---------------------------------------------------------------------------- names

NAMES: ContextVar[Mapping[str, str] | None] = ContextVar("chainfin_cli_names", default=None)
"""Names of the ids the current command prints (see :func:`remember_names`)."""

NAMED = ("ent", "bnk", "prd", "usr", "prg")


ID = re.compile(r"\b(?:" + "|".join(NAMED) + r")_[0-9A-HJKMNP-TV-Z]{26}\b")


def _ids(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        found.update(ID.findall(value))
    elif isinstance(value, Mapping):
        for v in value.values():
            _ids(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            _ids(v, found)


def remember_names(session: Session, body: Any) -> None:
    """Look up, in one query per kind, the name of every enterprise, bank, product, user
    and programme id in ``body``, for :func:`name_of` to print."""
    from sqlalchemy import select

    from chainfin.adapters.db.models import (
        Bank,
        CredentialProgramme,
        Enterprise,
        LoanProduct,
        User,
    )

    found: set[str] = set()
    _ids(body, found)
    names: dict[str, str] = {}
    lookups: list[tuple[str, Any, Any]] = [
        ("ent", Enterprise.id, Enterprise.name),
        ("bnk", Bank.id, Bank.code),
        ("prd", LoanProduct.id, LoanProduct.name),
        ("usr", User.id, User.username),
        ("prg", CredentialProgramme.id, CredentialProgramme.name),
    ]
    for prefix, key, label in lookups:
        wanted = sorted(i for i in found if i.startswith(prefix + "_"))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = session.execute(select(key, label).where(key.in_(chunk)))
            names.update({str(k): str(v) for k, v in rows})
    NAMES.set(names)


def named(text: str) -> str:
    """``text`` with every id in it that has a name replaced by the name: ``"Credentials
    held by ent_01…"`` -> ``"Credentials held by 苏州甲电子"``."""
    names = NAMES.get() or {}
    return ID.sub(lambda m: names.get(m.group(0), m.group(0)), text)


def name_of(identifier: str | None) -> str:
    """The name of an enterprise, bank (its code), product, user (the username) or programme,
    or the id itself when there is no name."""
    if not identifier:
        return ""
    return (NAMES.get() or {}).get(identifier, identifier)


# ---------------------------------------------------------------------------- amounts


def grouped(amount: str | Decimal | int) -> str:
    """A decimal amount with thousands separators, every digit kept: ``"3000000.00"`` ->
    ``"3,000,000.00"``."""
    text = str(amount)
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.lstrip("+-").partition(".")
    if not whole.isdigit():
        return text
    return f"{sign}{int(whole):,}{dot}{fraction}"


def money(amount: Mapping[str, Any] | str | None, currency: str | None = None) -> str:
    """An amount in full for people: ``{"amount": "3000000.00", "currency": "CNY"}`` ->
    ``"3,000,000.00 CNY"``."""
    if amount is None:
        return ""
    if isinstance(amount, Mapping):
        value, currency = amount.get("amount"), currency or amount.get("currency")
        if value is None:
            return ""
        amount = str(value)
    return f"{grouped(amount)} {currency}" if currency else grouped(amount)


def day(value: str | date | None) -> str:
    """A date ``YYYY-MM-DD`` (a timestamp's date part)."""
    if value is None or value == "":
        return ""
    return (value.isoformat() if isinstance(value, date) else str(value))[:10]


def moment(value: str | datetime | None) -> str:
    """A UTC timestamp to the minute: ``YYYY-MM-DD HH:MM``."""
    if value is None or value == "":
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text[:16].replace("T", " ")


# ---------------------------------------------------------------------------- tables

GAP = 3  # between two columns: a space of the box and a padding space on either side
FLEX_MIN = 10  # a text column may be squeezed to this many cells, wrapping its text
FLEX_WORD = 24  # ... unless its longest word is longer (up to this): then to that word
RIGID = frozenset({"id", "code", "date", "time", "amount", "number", "pct"})
RIGHT = frozenset({"amount", "number", "pct"})


@dataclasses.dataclass(frozen=True)
class Col:
    """A column of :func:`table`.

    ``kind`` says how cells look and wrap: ``text`` wraps (a long word folds); ``id`` and
    ``code`` never wrap (an id is copied whole); ``date`` shows ``YYYY-MM-DD``, ``time``
    ``YYYY-MM-DD HH:MM``; ``amount`` (a ``{"amount", "currency"}`` mapping or a decimal
    string), ``number`` and ``pct`` are right-aligned and never wrap, so no digit is ever
    cut. ``drop`` is the order in which columns give way on a narrow terminal (higher goes
    first; 0 never goes)."""

    header: str
    kind: str = "text"
    drop: int = 0


def _width() -> int:
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else out.width


def _cells(col: Col, values: list[Any]) -> tuple[str, list[str]]:
    """The header and the cells of one column as text; an amount column whose amounts
    share one currency names it once, in the header."""
    if col.kind == "amount":
        currencies = {v.get("currency") for v in values if isinstance(v, Mapping)}
        if len(currencies) == 1 and all(isinstance(v, Mapping) or not v for v in values):
            (currency,) = currencies
            return f"{col.header} {currency}", [
                grouped(v["amount"]) if isinstance(v, Mapping) else "" for v in values
            ]
        return col.header, [money(v) if v not in (None, "") else "" for v in values]
    if col.kind == "date":
        return col.header, [day(v) for v in values]
    if col.kind == "time":
        return col.header, [moment(v) for v in values]
    if col.kind == "number":
        return col.header, [
            grouped(v) if isinstance(v, int | Decimal) else "" if v is None else str(v)
            for v in values
        ]
    return col.header, ["" if v is None else str(v) for v in values]


def _fits(widths: list[int], width: int) -> bool:
    return sum(widths) + GAP * (len(widths) - 1) <= width


def table(
    title: str,
    columns: Sequence[Col],
    rows: Sequence[Sequence[Any]],
    *,
    empty: str,
    note: str | None = None,
) -> None:
    """Print rows as a table that fits the terminal (``COLUMNS``, 80 when not a terminal).

    Text columns wrap; ids, dates and numbers never do. When the table is too wide the
    columns with the highest ``drop`` give way first (a line under the table names them);
    when even the columns that never give way do not fit, each row is printed as a block of
    ``header: value`` lines instead. Amounts are always printed in full."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    if not rows:
        out.print(escape(empty))
        return
    width = _width()
    shown = [_cells(col, [row[n] for row in rows]) for n, col in enumerate(columns)]
    keep = list(range(len(columns)))

    def need(n: int, whole_words: bool = True) -> int:
        header, cells = shown[n]
        widest = max(cell_len(c) for c in [header, *cells])
        if columns[n].kind in RIGID:
            return widest
        if not whole_words:
            return min(widest, FLEX_MIN)
        # text wraps at spaces; a column narrower than its longest word would fold a word,
        # so columns give way (drop) before text squeezes below that
        word = max((cell_len(w) for c in [header, *cells] for w in c.split()), default=0)
        return min(widest, max(FLEX_MIN, min(word, FLEX_WORD)))

    for n in sorted(keep, key=lambda n: (columns[n].drop, n), reverse=True):
        if _fits([need(k) for k in keep], width) or columns[n].drop == 0:
            break
        keep.remove(n)
    if not _fits([need(k, whole_words=False) for k in keep], width):
        _records(title, [shown[n] for n in range(len(columns))], width)
        return
    grid = Table(
        title=escape(title),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for n in keep:
        col = columns[n]
        rigid = col.kind in RIGID
        grid.add_column(
            escape(shown[n][0]),
            justify="right" if col.kind in RIGHT else "left",
            no_wrap=rigid,
            min_width=need(n) if rigid else None,
            overflow="ignore" if rigid else "fold",
        )
    for r in range(len(rows)):
        grid.add_row(*(escape(shown[n][1][r]) for n in keep))
    out.print(grid, width=width)
    hidden = [shown[n][0] for n in range(len(columns)) if n not in keep]
    if hidden:
        out.print(
            f"[dim]not shown at {width} columns: {escape(', '.join(hidden))} (widen, or "
            "--json)[/dim]",
            soft_wrap=False,
            width=width,
        )
    if note:
        out.print(escape(note))


def _records(title: str, shown: list[tuple[str, list[str]]], width: int) -> None:
    """Rows as blocks of ``header: value`` lines, for a terminal too narrow for a table."""
    from rich.cells import cell_len

    out.print(f"[bold]{escape(title)}[/bold]")
    label = max(cell_len(header) for header, _ in shown)
    for r in range(len(shown[0][1])):
        out.print(escape(shown[0][1][r]), soft_wrap=False, width=width)
        for header, cells in shown[1:]:
            if not cells[r]:
                continue
            line = f"  {header:<{label}}  {cells[r]}"
            if cell_len(line) <= width:
                out.print(escape(line), soft_wrap=False, width=width)
            else:  # the value on a line of its own, so that it stays whole
                out.print(escape(f"  {header}"), soft_wrap=False, width=width)
                out.print(escape(f"    {cells[r]}"), soft_wrap=False, width=width)


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """One resource as ``label  value`` lines (empty values left out)."""
    label = max((len(k) for k, v in pairs if v not in (None, "")), default=0)
    for key, value in pairs:
        if value not in (None, ""):
            out.print(f"{escape(key):<{label}}  {escape(str(value))}", soft_wrap=False)


def _is_amount(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) >= {"amount", "currency"} and len(value) <= 3


def _plain(key: str, value: Any) -> str:
    if _is_amount(value):
        return money(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and key.endswith("_id"):
        named = name_of(value)
        return value if named == value else f"{named} ({value})"
    if isinstance(value, list) and all(not isinstance(v, Mapping | list) for v in value):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def show_any(body: Any, indent: str = "") -> None:
    """Any result for people, when a command has no view of its own: one ``label  value``
    line per field (amounts in full, ids with their names), nested objects and lists of
    objects indented under their label."""
    if isinstance(body, list):
        if not body:
            out.print(f"{indent}none")
        for n, item in enumerate(body):
            if n and not indent:
                out.print()
            show_any(item, indent)
        return
    if not isinstance(body, Mapping):
        out.print(indent + escape("none" if body is None else str(body)), soft_wrap=False)
        return
    flat: list[tuple[str, Any]] = []
    nested: list[tuple[str, Any]] = []
    for key, value in body.items():
        scalars = isinstance(value, list) and not any(isinstance(v, Mapping | list) for v in value)
        if _is_amount(value) or scalars or not isinstance(value, Mapping | list):
            flat.append((str(key), value))
        elif value:
            nested.append((str(key), value))
    label = max((len(k) for k, _ in flat), default=0)
    for key, value in flat:
        text = _plain(key, value)
        if text:
            out.print(f"{indent}{escape(key):<{label}}  {escape(text)}", soft_wrap=False)
    for key, value in nested:
        out.print(f"{indent}{escape(key)}:")
        show_any(value, indent + "  ")


# ---------------------------------------------------------------------------- progress


@contextmanager
def progress(
    description: str, *, total: int | None = None, enabled: bool = True
) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr for work that can take more than two seconds. It yields
    ``step(text)``, which advances the bar by one and says what runs now. Nothing is
    shown when stderr is not a terminal or the command prints JSON (``enabled=False``)."""
    if not enabled or not err.is_terminal:
        yield lambda text: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if total is not None:
        columns.append(MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def step(text: str) -> None:
            bar.update(task, advance=1, description=text)

        yield step
