"""The README's CLI examples are true to the CLI: a user who copies one gets a command that
parses. Nothing is executed: every check works on the Click command tree Typer builds from
``chainfin.cli.main.app``.

Three kinds of documentation are checked.

1. **Concrete commands** in fenced ``sh`` blocks. Each logical line (``\\`` continuations
   joined, ``# comments`` dropped) is split into simple commands at ``&&``, ``||``, ``;``,
   ``|`` and ``&``; the inside of every ``$(...)`` is a command line of its own. A simple
   command counts when, after leading ``VAR=value`` assignments, its first word is
   ``chainfin`` or a path ending in ``/chainfin`` (``.venv/bin/chainfin``). Shell expansions
   are replaced by the placeholder ``1`` before parsing: ``$VAR``, ``${VAR}``, ``$?`` and the
   whole ``$(...)`` (``1`` is a valid string, integer and decimal, so it passes for an id or
   an amount; a README example that needs a date or a choice should spell it out). The
   arguments then go through ``main(..., standalone_mode=False)`` of a private copy of the
   command tree whose callbacks are removed: full Click parsing — subcommands, unknown and
   required options, choices, types — and nothing runs. On that copy, options read no
   environment variables (the example must name what it needs) and files need not exist
   (the example's files are the user's, not the test machine's).
2. **The command table** of "## The CLI" (rows whose first cell starts with a
   ``chainfin …`` code span). The cell is a pattern, not a command line; see ``tokenize``
   for its syntax. Every command it can stand for must exist, every ``--option`` written for
   it must be one of that command's, every literal value written for a choice option must be
   one of its choices, the number of positional placeholders must fit the command's
   arguments, and every required option must be written (optional ``[...]`` parts left out
   included: a required option is not documented by ``[--bank CODE]``).
3. **Inline mentions** in prose (a code span starting with ``chainfin``): the command or
   group must exist and the options written must be its own. Required options are not
   demanded of a mention.

A failure names the README line and, for concrete commands, Click's own message.
"""

from __future__ import annotations

import itertools
import math
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer

from chainfin.cli.main import app

README = Path(__file__).resolve().parents[1] / "README.md"

# Typer vendors its own copy of Click and exposes no public type for its commands.
Command = Any

PLACEHOLDER = "1"  # what a shell expansion ($VAR, $(...)) becomes before parsing
ELLIPSES = frozenset({"...", "…"})  # "and so on" / "some value", in table patterns
HELP = "--help"  # every command takes it; Typer adds it per context, not in .params
SH_LANGUAGES = frozenset({"sh", "bash", "shell", "zsh"})

# Floors, so that a parser that silently finds nothing fails. They are the counts in the
# README when this test was written: raise them when the README documents more.
MIN_TABLE_COMMANDS = 111
MIN_SH_COMMANDS = 7


# ------------------------------------------------------------------ the command tree


def cli() -> Command:
    """A fresh Click command tree for the app (Typer builds new objects on every call, so
    a caller may change it without touching the app)."""
    return typer.main.get_command(app)


def is_group(cmd: Command) -> bool:
    return hasattr(cmd, "commands")


def walk(cmd: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    yield path, cmd
    if is_group(cmd):
        for name, sub in cmd.commands.items():
            yield from walk(sub, (*path, name))


def options_of(cmd: Command) -> dict[str, Any]:
    """Every spelling of every option of ``cmd`` (``--users`` and ``--no-users`` alike),
    to its parameter; ``--help`` maps to None."""
    found: dict[str, Any] = {HELP: None}
    for param in cmd.params:
        if param.param_type_name == "option":
            for name in (*param.opts, *param.secondary_opts):
                found[name] = param
    return found


def takes_value(param: Any) -> bool:
    return param is not None and not param.is_flag and not getattr(param, "count", False)


def choices_of(param: Any) -> list[str] | None:
    desc = param.type_descriptor
    if not desc.is_choice:
        return None
    return [str(getattr(c, "value", c)) for c in desc.choices]


def argument_range(cmd: Command) -> tuple[int, float]:
    """How many positional words the command needs at least and takes at most."""
    low, high = 0, 0.0
    for param in cmd.params:
        if param.param_type_name != "argument":
            continue
        if param.nargs == -1:
            high = float("inf")
            low += 1 if param.required else 0
        else:
            high += param.nargs
            low += param.nargs if param.required else 0
    return low, high


def disarmed_cli() -> Command:
    """The tree with every command callback removed, so that parsing a command runs
    nothing; eager options (``--install-completion``: actions, not validation) lose theirs
    too. Its options read no environment variables and its paths need not exist (see the
    module docstring)."""
    root = cli()
    for _, cmd in walk(root):
        cmd.callback = None
        for param in cmd.params:
            param.envvar = None
            if param.is_eager:
                param.callback = None
            desc = param.type_descriptor
            if desc.is_path:
                desc.parameter_info.exists = False
    assert all(cmd.callback is None for _, cmd in walk(root))
    return root


def parse_concrete(root: Command, args: list[str]) -> str | None:
    """Click's message if ``chainfin ARGS`` does not parse, else None (``root`` must be
    disarmed: ``main`` then parses fully and invokes nothing)."""
    try:
        root.main(args=list(args), prog_name="chainfin", standalone_mode=False)
    except typer.TyperException as exc:  # Click's UsageError, BadParameter, ...
        format_message = getattr(exc, "format_message", None)
        return format_message() if format_message else str(exc)
    return None


# ------------------------------------------------------------------ reading the README


@dataclass(frozen=True)
class Fence:
    language: str
    first_line: int  # README line of the block's first content line
    lines: list[str]


def fences(text: str) -> list[Fence]:
    found: list[Fence] = []
    current: Fence | None = None
    marker = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if current is None:
            m = re.match(r"(`{3,}|~{3,})\s*([\w+-]*)", stripped)
            if m:
                marker = m.group(1)
                current = Fence(m.group(2).lower(), number + 1, [])
        elif stripped.startswith(marker) and not stripped.strip(marker[0]):
            found.append(current)
            current = None
        else:
            current.lines.append(line)
    return found


def outside_fences(text: str) -> list[str]:
    """The README's lines with fenced blocks blanked (line numbers kept)."""
    lines = text.splitlines()
    for fence in fences(text):
        for i in range(len(fence.lines) + 2):  # the opening and closing fence too
            index = fence.first_line - 2 + i
            if 0 <= index < len(lines):
                lines[index] = ""
    return lines


def table_cells(line: str) -> list[str]:
    """The cells of a Markdown table row; ``\\|`` is a literal bar inside a cell."""
    cells = re.split(r"(?<!\\)\|", line.strip())
    if cells and not cells[0].strip():
        cells = cells[1:]
    if cells and not cells[-1].strip():
        cells = cells[:-1]
    return [c.replace("\\|", "|").strip() for c in cells]


def starts_with_chainfin(code: str) -> bool:
    first = code.split(maxsplit=1)[0] if code.split() else ""
    return first == "chainfin" or first.endswith("/chainfin")


@dataclass(frozen=True)
class Row:
    line: int
    spans: list[str]  # the code spans of the command cell, in order


def command_rows(text: str) -> list[Row]:
    rows = []
    for number, line in enumerate(outside_fences(text), start=1):
        if not line.lstrip().startswith("|"):
            continue
        cells = table_cells(line)
        spans = re.findall(r"`([^`]+)`", cells[0]) if cells else []
        if spans and starts_with_chainfin(spans[0]):
            rows.append(Row(number, spans))
    return rows


def inline_mentions(text: str) -> list[tuple[int, str]]:
    """Code spans in prose (tables and fenced blocks excluded) that start with chainfin."""
    lines = ["" if line.lstrip().startswith("|") else line for line in outside_fences(text)]
    prose = "\n".join(lines)
    found = []
    for m in re.finditer(r"`([^`]+)`", prose):
        code = " ".join(m.group(1).split())
        if code and starts_with_chainfin(code):
            found.append((prose.count("\n", 0, m.start()) + 1, code))
    return found


# ------------------------------------------------------------------ shell lines


@dataclass(frozen=True)
class ShCommand:
    line: int  # README line where the logical line starts
    source: str  # the logical line as written
    args: list[str]  # after the word ``chainfin``


def logical_lines(fence: Fence) -> Iterator[tuple[int, str]]:
    """Lines with ``\\``-newline continuations joined, each with its first line number."""
    pending: list[str] = []
    start = fence.first_line
    for offset, line in enumerate(fence.lines):
        if not pending:
            start = fence.first_line + offset
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


SHELL_EXPANSION = re.compile(r"\$(\{[^}]*\}|[A-Za-z_]\w*|[?#@*$!0-9-])")  # $VAR ${VAR} $? ...


def expand_shell(line: str) -> tuple[str, list[str]]:
    """Drop the comment, replace expansions by PLACEHOLDER; return the line and the command
    lines found inside ``$(...)``. Single quotes protect everything, double quotes protect
    ``#`` but not expansions, as in sh. (Backquote substitution is not supported.)"""
    out: list[str] = []
    inner: list[str] = []
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote == "'":
            quote = "" if ch == "'" else quote
            out.append(ch)
            i += 1
            continue
        if ch == "\\":
            out.append(line[i : i + 2])
            i += 2
            continue
        if ch == "'" and not quote:
            quote = "'"
        elif ch == '"':
            quote = "" if quote == '"' else '"'
        if ch in "'\"":
            out.append(ch)
            i += 1
            continue
        if ch == "#" and not quote and (i == 0 or line[i - 1].isspace()):
            break  # a comment runs to the end of the line
        if line.startswith("$(", i):
            depth, j, q = 1, i + 2, ""
            while j < len(line) and depth:
                c = line[j]
                if q:
                    q = "" if c == q else q
                elif c in "'\"":
                    q = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                j += 1
            if depth:
                raise ValueError(f"unbalanced $( in {line!r}")
            inner.append(line[i + 2 : j - 1])
            out.append(PLACEHOLDER)
            i = j
            continue
        m = SHELL_EXPANSION.match(line, i)
        if m:
            out.append(PLACEHOLDER)
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out), inner


def simple_commands(line: str) -> list[list[str]]:
    """The simple commands of a shell line, as word lists; those inside ``$(...)`` too."""
    text, inner = expand_shell(line)
    commands = [cmd for sub in inner for cmd in simple_commands(sub)]
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # expand_shell dropped the comment, quote-aware
    current: list[str] = []
    tokens = list(lexer)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token and set(token) <= set("();|&"):  # && || ; | & ( ): the command ends
            commands.append(current)
            current = []
        elif token and token[0] in "<>":  # a redirection and its target
            if current and current[-1].isdigit():  # 2>file
                current.pop()
            i += 1
        else:
            current.append(token)
        i += 1
    commands.append(current)
    return [cmd for cmd in commands if cmd]


def sh_commands(text: str) -> list[ShCommand]:
    found = []
    for fence in fences(text):
        if fence.language not in SH_LANGUAGES:
            continue
        for number, line in logical_lines(fence):
            for words in simple_commands(line):
                while words and re.match(r"[A-Za-z_]\w*=", words[0]):
                    words = words[1:]  # VAR=value before the command
                if words and starts_with_chainfin(words[0]):
                    found.append(ShCommand(number, line.strip(), words[1:]))
    return found


def check_sh(text: str, root: Command) -> tuple[list[str], list[ShCommand]]:
    problems = []
    commands = sh_commands(text)
    for command in commands:
        message = parse_concrete(root, command.args)
        if message is not None:
            problems.append(f"README.md:{command.line}: `{command.source}`: {message}")
    return problems, commands


# ------------------------------------------------------------------ table patterns
#
# A command cell holds one or more code spans, e.g.
#     `chainfin loan {list,show ID [--as-of D]}` / `loan repay ID --bank CODE ...`
# Each span is a pattern. The first starts with ``chainfin``; a later one (``loan repay``,
# ``cancel CREDENTIAL``) names a command of the previous span's group or, failing that, a
# top-level command. Inside a span:
#   [ x ]            x is optional
#   { a, b }         one of a, b  (each may be several words: {list,show ID})
#   ( a | b )        one of a, b; a spaced ``|`` separates alternatives of the enclosing
#                    group, or of the whole span at the top level
#   a|b  a/b         one of the words a, b (no spaces: ``approve|decline``, ``csv/json``,
#                    ``register/bind/retire``, ``--bank/--enterprise``)
#   ... …            standing alone: more of the same, or "some value" after an option
#   WORD...          a repeated positional (counts as one)
# A bracket that opens in the middle of a word (``ID=FRACTION[,…]``) is part of the word.
# Words: ``--opt`` / ``-o`` options (``--opt=value`` too), which take the next word as
# their value unless it is an option (``[--since --until]`` names options only) or the
# option is a flag; everything else is a positional placeholder or a subcommand.


class PatternError(ValueError):
    pass


OPENERS = {"[": "]", "{": "}", "(": ")"}
CLOSERS = {v: k for k, v in OPENERS.items()}
MAX_VARIANTS = 4096


def tokenize(pattern: str) -> list[tuple[str, str]]:
    """(kind, text) tokens; kind is word, open, close or alt."""
    tokens: list[tuple[str, str]] = []
    stack: list[str] = []  # the open groups
    word = ""
    literal = 0  # brackets opened inside the current word, closed inside it
    for ch in pattern:
        if ch.isspace():
            if word:
                tokens.append(("word", word))
            word, literal = "", 0
        elif ch in OPENERS and word:
            word, literal = word + ch, literal + 1
        elif ch in OPENERS:
            tokens.append(("open", ch))
            stack.append(ch)
        elif ch in CLOSERS and literal:
            word, literal = word + ch, literal - 1
        elif ch in CLOSERS:
            if not stack or stack[-1] != CLOSERS[ch]:
                raise PatternError(f"{ch!r} closes nothing in `{pattern}`")
            if word:
                tokens.append(("word", word))
            word = ""
            tokens.append(("close", ch))
            stack.pop()
        elif (ch == "," and stack and stack[-1] == "{" and not literal) or (ch == "|" and not word):
            if word:
                tokens.append(("word", word))
            word = ""
            tokens.append(("alt", ch))
        else:
            word += ch
    if word:
        tokens.append(("word", word))
    if stack:
        raise PatternError(f"{stack[-1]!r} is never closed in `{pattern}`")
    return tokens


@dataclass
class Choice:
    """One of ``options`` (each a sequence of nodes), or nothing when ``optional``."""

    options: list[list[Any]] = field(default_factory=lambda: [[]])
    optional: bool = False


def word_node(word: str) -> Any:
    if word in ELLIPSES:
        return word
    pieces = [p for p in re.split(r"[|/]", word) if p]
    if len(pieces) > 1:
        return Choice([[p] for p in pieces])
    return word


def parse_pattern(pattern: str) -> Choice:
    tokens = tokenize(pattern)
    pos = 0

    def group(optional: bool) -> Choice:
        nonlocal pos
        node = Choice(optional=optional)
        while pos < len(tokens):
            kind, text = tokens[pos]
            pos += 1
            if kind == "close":
                break
            if kind == "alt":
                node.options.append([])
            elif kind == "open":
                node.options[-1].append(group(optional=text == "["))
            else:
                node.options[-1].append(word_node(text))
        return node

    return group(optional=False)


def expand(node: Any) -> list[tuple[str, ...]]:
    """Every word sequence the pattern node stands for."""
    if isinstance(node, str):
        return [(node,)]
    variants: list[tuple[str, ...]] = [()] if node.optional else []
    for option in node.options:
        seqs: list[tuple[str, ...]] = [()]
        for item in option:
            seqs = [a + b for a, b in itertools.product(seqs, expand(item))]
            if len(seqs) > MAX_VARIANTS:
                raise PatternError("the pattern stands for too many commands")
        variants.extend(seqs)
    return list(dict.fromkeys(variants))


def variants(pattern: str) -> list[tuple[str, ...]]:
    return expand(parse_pattern(pattern))


@dataclass
class Resolved:
    path: tuple[str, ...]
    cmd: Command
    rest: tuple[str, ...]  # the words after the command path


def resolve(
    root: Command, start: tuple[str, ...], words: tuple[str, ...]
) -> tuple[Resolved | None, list[str]]:
    """Follow ``words`` down the tree from the group at ``start``."""
    path, cmd = start, cmd_at(root, start)
    i = 0
    while is_group(cmd) and i < len(words):
        word = words[i]
        if word.startswith("-"):  # a group's own option (only flags exist at group level)
            if word.split("=")[0] not in options_of(cmd):
                return None, [f"no option {word} on `{display(path)}`"]
        elif word in cmd.commands:
            path, cmd = (*path, word), cmd.commands[word]
        else:
            known = ", ".join(sorted(cmd.commands))
            return None, [f"`{display(path)}` has no command {word!r} (it has: {known})"]
        i += 1
    return Resolved(path, cmd, words[i:]), []


def display(path: tuple[str, ...]) -> str:
    return " ".join(("chainfin", *path))


def check_words(resolved: Resolved, *, complete: bool) -> list[str]:
    """Options, choice values and positionals of one expanded pattern; with ``complete``,
    also that the command (not a group) is named with every required option."""
    cmd, where = resolved.cmd, f"`{display(resolved.path)}`"
    if is_group(cmd):
        return [f"{where} is a group: name one of its commands"] if complete else []
    options = options_of(cmd)
    given: set[str] = set()
    positionals = 0
    problems = []
    rest = resolved.rest
    i = 0
    while i < len(rest):
        word = rest[i]
        i += 1
        if word in ELLIPSES:
            continue
        if not (word.startswith("-") and len(word) > 1):
            positionals += 1
            continue
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if name not in options:
            problems.append(f"{where} has no option {name}")
            if not eq and i < len(rest) and not rest[i].startswith("-"):
                i += 1  # its value, most likely: not a positional
            continue
        param = options[name]
        given.add(param.name if param is not None else HELP)
        if not takes_value(param):
            if eq:
                problems.append(f"{where}: {name} is a flag and takes no value")
            continue
        if not eq and i < len(rest) and not rest[i].startswith("-"):
            value = rest[i]
            i += 1
        allowed = choices_of(param)
        # A value without capitals is a literal (``csv``, ``yrd``); ``K``, ``FILE.json``,
        # ``…`` are placeholders.
        literal = bool(value) and value == value.lower() and value not in ELLIPSES
        if allowed is not None and literal and value not in allowed:
            problems.append(f"{where}: {value!r} is not a choice of {name} ({allowed})")
    if complete:
        for param in cmd.params:
            if param.param_type_name == "option" and param.required and param.name not in given:
                problems.append(f"{where} requires {'/'.join(param.opts)}, not written")
        low, high = argument_range(cmd)
        if not low <= positionals <= high:
            most = "any" if math.isinf(high) else str(int(high))
            wanted = str(low) if most == str(low) else f"{low} to {most}"
            problems.append(
                f"{where} takes {wanted} positional(s), the README writes {positionals}"
            )
    return problems


def check_table(text: str, root: Command) -> tuple[list[str], set[tuple[int, tuple[str, ...]]]]:
    problems: dict[str, None] = {}
    checked: set[tuple[int, tuple[str, ...]]] = set()
    for row in command_rows(text):
        group: tuple[str, ...] = ()  # the previous span's group, for a span like `cancel ...`
        for index, span in enumerate(row.spans):
            where = f"README.md:{row.line}: `{span}`"
            try:
                expanded = variants(span)
            except PatternError as exc:
                problems[f"{where}: {exc}"] = None
                continue
            next_group = group
            for words in expanded:
                if not words:
                    problems[f"{where}: names no command"] = None
                    continue
                if starts_with_chainfin(words[0]):
                    start, words = (), words[1:]
                elif index == 0:
                    problems[f"{where}: the first command of a row starts with chainfin"] = None
                    continue
                else:
                    start = group if words[0] in cmd_at(root, group).commands else ()
                resolved, errors = resolve(root, start, words)
                for error in errors:
                    problems[f"{where}: {error}"] = None
                if resolved is None:
                    continue
                checked.add((row.line, resolved.path))
                next_group = resolved.path[:-1]
                for error in check_words(resolved, complete=True):
                    problems[f"{where}: {error}"] = None
            group = next_group
    return list(problems), checked


def cmd_at(root: Command, path: tuple[str, ...]) -> Command:
    cmd = root
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def check_mentions(text: str, root: Command) -> tuple[list[str], int]:
    problems: dict[str, None] = {}
    mentions = inline_mentions(text)
    for line, code in mentions:
        where = f"README.md:{line}: `{code}`"
        try:
            expanded = variants(code)
        except PatternError as exc:
            problems[f"{where}: {exc}"] = None
            continue
        for words in expanded:
            resolved, errors = resolve(root, (), words[1:])
            for error in [*errors, *(check_words(resolved, complete=False) if resolved else [])]:
                problems[f"{where}: {error}"] = None
    return list(problems), len(mentions)


# ------------------------------------------------------------------ the README


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def test_sh_blocks_parse(readme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Belt and braces: were a callback to run after all, it would make this database.
    database = tmp_path / "must-not-exist.db"
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", f"sqlite:///{database}")
    problems, commands = check_sh(readme, disarmed_cli())
    assert not problems, "README sh examples that do not parse:\n" + "\n".join(problems)
    assert len(commands) >= MIN_SH_COMMANDS, [c.source for c in commands]
    assert not database.exists()


def test_cli_table_is_true_to_the_cli(readme: str) -> None:
    problems, checked = check_table(readme, cli())
    assert not problems, "README CLI table rows untrue to the CLI:\n" + "\n".join(problems)
    assert len(checked) >= MIN_TABLE_COMMANDS, len(checked)


def test_inline_mentions_exist(readme: str) -> None:
    problems, count = check_mentions(readme, cli())
    assert not problems, "README mentions of commands that do not exist:\n" + "\n".join(problems)
    assert count >= 3


# ------------------------------------------------------------------ the checker itself


def test_patterns_expand_as_documented() -> None:
    assert variants("chainfin loan {list,show ID [--as-of D]}") == [
        ("chainfin", "loan", "list"),
        ("chainfin", "loan", "show", "ID"),
        ("chainfin", "loan", "show", "ID", "--as-of", "D"),
    ]
    assert variants("chainfin x [--bank CODE | --enterprise USCC] --action a|b") == [
        ("chainfin", "x", "--action", "a"),
        ("chainfin", "x", "--action", "b"),
        ("chainfin", "x", "--bank", "CODE", "--action", "a"),
        ("chainfin", "x", "--bank", "CODE", "--action", "b"),
        ("chainfin", "x", "--enterprise", "USCC", "--action", "a"),
        ("chainfin", "x", "--enterprise", "USCC", "--action", "b"),
    ]
    assert variants("risk debtrank --shock ID=FRACTION[,…]") == [
        ("risk", "debtrank", "--shock", "ID=FRACTION[,…]")
    ]
    assert variants("iot register/bind --x/--y") == [
        ("iot", "register", "--x"),
        ("iot", "register", "--y"),
        ("iot", "bind", "--x"),
        ("iot", "bind", "--y"),
    ]
    for bad in ("chainfin x [--json", "chainfin x --json]", "chainfin {a,b)"):
        with pytest.raises(PatternError):
            variants(bad)


def test_shell_lines_are_split_into_commands() -> None:
    assert simple_commands(
        "export K=$(.venv/bin/chainfin new-data-key --key-id k1)   # keep it # safe"
    ) == [[".venv/bin/chainfin", "new-data-key", "--key-id", "k1"], ["export", "K=1"]]
    assert simple_commands("a && b '#x' \"$ID\"; c 2>/dev/null | d # e") == [
        ["a"],
        ["b", "#x", "1"],
        ["c"],
        ["d"],
    ]


def synthetic(body: str) -> str:
    return "# title\n\n## The CLI\n\n| command | what |\n|---|---|\n" + body


TABLE_MISTAKES = [
    ("| `chainfin risk alerts [--state S]` | x |", "requires --bank"),
    ("| `chainfin risk alerts --bank CODE [--statee S]` | x |", "no option --statee"),
    ("| `chainfin risk alertz --bank CODE` | x |", "no command 'alertz'"),
    ("| `chainfin loan list` / `lapse` | x |", "`chainfin loan lapse` requires --bank"),
    ("| `chainfin demo seed --region {yrd,mars}` | x |", "'mars' is not a choice"),
    ("| `chainfin ledger export` | x |", "takes 1 positional(s), the README writes 0"),
    ("| `chainfin ledger export A B` | x |", "the README writes 2"),
    ("| `chainfin check uscc CODE [--json` | x |", "never closed"),
    ("| `chainfin iot sweep/bindd [--bank CODE]` | x |", "no command 'bindd'"),
    ("| `chainfin iot {sweep ID,retire ID} --bank CODE` | x |", "`chainfin iot sweep` takes 0"),
    ("| `chainfin line caps --bank CODE --json=yes` | x |", "is a flag"),
    ("| `chainfin rates lpr` | x |", "is a group"),
]


@pytest.mark.parametrize(("row", "expected"), TABLE_MISTAKES)
def test_table_checker_rejects(row: str, expected: str) -> None:
    problems, _ = check_table(synthetic(row + "\n"), cli())
    assert len(problems) == 1, problems
    assert problems[0].startswith("README.md:7: "), problems
    assert expected in problems[0], problems


SH_MISTAKES = [
    ("chainfin risk alerts --state open   # no --bank", "Missing option '--bank'"),
    (
        "CHAINFIN_X=1 .venv/bin/chainfin risk warn-scan --bank B --as-off 2026-01-01",
        "No such option: --as-off",
    ),
    ("chainfin serve --port eighty", "'--port'"),
    ("chainfin lone show 1", "No such command 'lone'"),
    ("echo ok && chainfin demo seed --region mars", "'mars'"),
    ("export K=$(chainfin new-data-key --key-idd k1)", "No such option: --key-idd"),
    ("chainfin ledger witness --url u --key-file f --log-vkey v --state-file s", "'--token'"),
]


@pytest.mark.parametrize(("line", "expected"), SH_MISTAKES)
def test_sh_checker_rejects(
    line: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHAINFIN_TOKEN", "set, but an example must not rely on it")
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", f"sqlite:///{tmp_path / 'no.db'}")
    text = synthetic("") + "\n```sh\nchainfin db current\n" + line + "\n```\n"
    problems, commands = check_sh(text, disarmed_cli())
    assert len(commands) == 2
    assert len(problems) == 1, problems
    assert problems[0].startswith("README.md:10: "), problems
    assert expected in problems[0], problems
    assert not (tmp_path / "no.db").exists()


def test_checkers_accept_correct_examples() -> None:
    text = synthetic(
        "| `chainfin loan {list,show ID [--as-of D]}` / `loan lapse --bank CODE` | x |\n"
        "| `chainfin credential {accept,reject} PIECE --as USCC` / `cancel CRED --as C` | x |\n"
        "| `chainfin check uscc CODE... [--json]` | x |\n"
        "\nSee `chainfin ledger verify` and `.venv/bin/chainfin --help`.\n"
        "\n```sh\n.venv/bin/chainfin ledger verify-export /no/such/dir --json && \\\n"
        "  chainfin registry import /no/such.csv --kind enterprises\n```\n"
    )
    root = cli()
    table_problems, checked = check_table(text, root)
    assert not table_problems
    assert {path for _, path in checked} == {
        ("loan", "list"),
        ("loan", "show"),
        ("loan", "lapse"),
        ("credential", "accept"),
        ("credential", "reject"),
        ("credential", "cancel"),
        ("check", "uscc"),
    }
    mention_problems, mentions = check_mentions(text, root)
    assert (mention_problems, mentions) == ([], 2)
    sh_problems, commands = check_sh(text, disarmed_cli())
    assert not sh_problems
    assert [(c.line, c.args[:2]) for c in commands] == [
        (14, ["ledger", "verify-export"]),
        (14, ["registry", "import"]),
    ]
