"""The repository is self-contained: nothing under tests/, src/, bench/, docs/ or README.md
reads or cites a path outside it.

Three checks, each failing with ``file:line: what``:

- no text names the workspace's shared folder (a parent-relative or absolute path to it);
- every ``parents[N]`` (with any ``.parent`` steps before it), and every ``.parent`` chain on
  ``__file__``, resolved from the file it is written in, stays inside the repository root;
- every relative markdown link in README.md and docs/ points at something that exists inside
  the repository.

The patterns below are built so that this file passes its own checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "src", "bench", "docs", "README.md")
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"}
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".so", ".db", ".sqlite"}

SHARED = "shared"
OUTSIDE = re.compile(
    "|".join(
        [
            rf"\.\./{SHARED}",  # climbing out of the repository to the shared folder
            rf"/work/{SHARED}",  # the shared folder's absolute path
            rf"(?<![\w/.-]){SHARED}/(?:data|docs|hooks)/",  # its contents, cited as if local
        ]
    )
)
# k ".parent" steps, then ".parents[N]": the file's ancestor number k + N.
PARENTS_INDEX = re.compile(r"((?:\.parent(?!\w))*)\.parents\[(\d+)\]")
# Path(__file__)[.resolve()].parent.parent...: the file's ancestor number (steps - 1).
FILE_PARENTS = re.compile(r"__file__\)(?:\.resolve\(\)|\.absolute\(\))?((?:\.parent(?!\w))+)")
STEP = len(".parent")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
CODE_SPAN = re.compile(r"`+[^`]*`+")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def scanned_files() -> Iterator[Path]:
    for name in SCANNED:
        top = ROOT / name
        if top.is_file():
            yield top
            continue
        for path in sorted(top.rglob("*")):
            parts = set(path.relative_to(ROOT).parts)
            if (
                path.is_file()
                and not parts & SKIPPED_DIRS
                and not any(part.endswith(".egg-info") for part in parts)
                and path.suffix not in SKIPPED_SUFFIXES
            ):
                yield path


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def inside(path: Path) -> bool:
    return path == ROOT or ROOT in path.parents


def ancestor(path: Path, number: int) -> Path | None:
    """``path.parents[number]``, or None where that climbs above the filesystem root."""
    return path.parents[number] if number < len(path.parents) else None


def named_outside(path: Path, text: str) -> list[str]:
    return [
        f"{where(path, n)}: names {m.group(0)!r}, outside the repository"
        for n, line in enumerate(text.splitlines(), 1)
        for m in OUTSIDE.finditer(line)
    ]


def climbing_out(path: Path, text: str) -> list[str]:
    problems = []
    for n, line in enumerate(text.splitlines(), 1):
        climbs = [
            (m.group(0), len(m.group(1)) // STEP + int(m.group(2)))
            for m in PARENTS_INDEX.finditer(line)
        ]
        climbs += [(m.group(0), len(m.group(1)) // STEP - 1) for m in FILE_PARENTS.finditer(line)]
        for found, number in climbs:
            target = ancestor(path, number)
            if target is None or not inside(target):
                problems.append(
                    f"{where(path, n)}: {found!r} resolves to {target or 'above /'}, "
                    f"outside the repository {ROOT}"
                )
    return problems


def markdown_targets(text: str) -> Iterator[tuple[int, str]]:
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        plain = CODE_SPAN.sub("", line)
        for m in LINK.finditer(plain):
            yield n, m.group(1)
        definition = LINK_DEFINITION.match(plain)
        if definition:
            yield n, definition.group(1)


def broken_links(path: Path, text: str) -> list[str]:
    problems = []
    for n, target in markdown_targets(text):
        if SCHEME.match(target) or target.startswith("#"):
            continue  # a URL, or an anchor on this page
        relative = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if relative.startswith("/"):
            problems.append(f"{where(path, n)}: link {target!r} is an absolute path")
            continue
        resolved = (path.parent / relative).resolve()
        if not inside(resolved):
            problems.append(f"{where(path, n)}: link {target!r} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{where(path, n)}: link {target!r} points at nothing")
    return problems


def markdown_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def report(problems: list[str]) -> str:
    return f"{len(problems)} reference(s) outside the repository:\n" + "\n".join(problems)


def test_the_scan_sees_the_whole_repository() -> None:
    seen = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert "README.md" in seen
    assert "tests/test_self_contained.py" in seen
    assert "tests/data/reference/README.md" in seen
    assert any(name.startswith("src/chainfin/") for name in seen)
    assert any(name.startswith("bench/") for name in seen)
    assert any(name.startswith("docs/") for name in seen)


def test_no_file_names_a_path_outside_the_repository() -> None:
    problems = [
        problem
        for path in scanned_files()
        if (text := text_of(path)) is not None
        for problem in named_outside(path, text)
    ]
    assert not problems, report(problems)


def test_every_parents_index_stays_inside_the_repository() -> None:
    problems = [
        problem
        for path in scanned_files()
        if (text := text_of(path)) is not None
        for problem in climbing_out(path, text)
    ]
    assert not problems, report(problems)


def test_every_markdown_link_resolves_inside_the_repository() -> None:
    pages = markdown_pages()
    assert len(pages) > 1
    problems = [problem for page in pages for problem in broken_links(page, page.read_text())]
    assert not problems, report(problems)


# --- the checks catch what they should -----------------------------------------------------

FAKE = ROOT / "tests" / "pkg" / "test_fake.py"  # three levels below the root
UP = ".." + "/"
WORK = "/" + "work" + "/"


@pytest.mark.parametrize(
    "line",
    [
        f'DATA = ROOT / "{UP}{SHARED}/data/reference"',
        f"See `{UP}{SHARED}/docs/PRODUCT.md`.",
        f'open("{WORK}{SHARED}/data/reference/lpr/lpr.csv")',
        f"vectors in `{SHARED}/data/reference/day_count`",
    ],
)
def test_a_shared_path_is_named(line: str) -> None:
    found = OUTSIDE.search(line)
    assert found
    assert named_outside(FAKE, f"ok\n{line}\n") == [
        f"tests/pkg/test_fake.py:2: names {found.group(0)!r}, outside the repository"
    ]


def test_an_in_repository_path_is_not_named() -> None:
    assert named_outside(FAKE, 'DATA = REFERENCE / "lpr"  # tests/data/reference/lpr\n') == []


def python(expression: str) -> str:
    """Spelt with FILE and <N> so that this file does not hold what it checks for."""
    return expression.replace("FILE", "__file__").replace("<", "[").replace(">", "]")


@pytest.mark.parametrize(
    ("expression", "stays_inside"),
    [
        ("Path(FILE).resolve().parents<1>", True),  # tests/
        ("Path(FILE).resolve().parents<2>", True),  # the root
        ("Path(FILE).resolve().parents<3>", False),  # the root's parent
        ("Path(FILE).parent.parents<1>", True),  # the root
        ("Path(FILE).parent.parent.parents<1>", False),
        ("Path(FILE).resolve().parent.parent.parent", True),  # the root
        ("Path(FILE).resolve().parent.parent.parent.parent", False),
        ("Path(FILE).parents<99>", False),  # above /
    ],
)
def test_parents_resolve_from_the_file(expression: str, stays_inside: bool) -> None:
    problems = climbing_out(FAKE, f"x = 1\nDATA = {python(expression)}\n")
    assert (problems == []) is stays_inside, problems
    assert all(p.startswith("tests/pkg/test_fake.py:2: ") for p in problems)


def test_links_are_resolved_from_their_page() -> None:
    page = ROOT / "docs" / "fake.md"
    text = "\n".join(
        [
            "[ok](product.md) [ok](../README.md#what-chainfin-is) [web](https://example.org)",
            f"[gone](missing.md) [out]({UP}{UP}elsewhere.md) [abs](/etc/hosts)",
            "`[code](nowhere.md)` and [anchor](#a-heading)",
            "```",
            "[fenced](nowhere.md)",
            "```",
            "[def]: ./nowhere.md",
        ]
    )
    assert broken_links(page, text) == [
        "docs/fake.md:2: link 'missing.md' points at nothing",
        f"docs/fake.md:2: link '{UP}{UP}elsewhere.md' leaves the repository",
        "docs/fake.md:2: link '/etc/hosts' is an absolute path",
        "docs/fake.md:7: link './nowhere.md' points at nothing",
    ]
