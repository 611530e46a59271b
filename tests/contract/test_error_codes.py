"""One vocabulary of refusals, read off the source: every refusal a client can act on names a
registered, specific code; the registry, the credit decision's reasons and the generated
reference in docs/errors.md agree.

The scan reads every module under src/chainfin:

- ``raise NotFound(...)`` and ``raise Conflict(...)`` pass ``code=`` (``NotFound.of`` derives
  it from the resource);
- ``raise ValidationFailed([FieldError(...)])`` with exactly one field error passes ``code=``
  (one cause, one code); ``validation_failed`` stays for lists built from several checks;
- every literal code (``code="..."`` in a raise, ``code = "..."`` on an error class, the codes
  the API's handlers and guard answer with) is in the registry.
"""

from __future__ import annotations

import ast
import doctest
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from chainfin.domain import decision, error_codes, errors
from chainfin.domain.error_codes import CODES, reference_markdown
from chainfin.domain.errors import (
    ChainfinError,
    Conflict,
    FieldError,
    NotFound,
    UnregisteredCode,
    ValidationFailed,
)
from chainfin.services import idempotency

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "chainfin"
ERROR_BASES = {"ChainfinError"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


MODULES = list(_modules())


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _error_classes() -> dict[str, ast.ClassDef]:
    """Every class that derives (by name, across the tree) from ChainfinError."""
    classes = {
        node.name: node
        for _, tree in MODULES
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    errors: dict[str, ast.ClassDef] = {"ChainfinError": classes["ChainfinError"]}
    grew = True
    while grew:
        grew = False
        for name, node in classes.items():
            if name not in errors and any(_name(b) in errors for b in node.bases):
                errors[name] = node
                grew = True
    return errors


ERRORS = _error_classes()


def _raises() -> Iterator[tuple[str, int, str, ast.Call]]:
    for where, tree in MODULES:
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = _name(node.exc.func)
                if name in ERRORS:
                    yield where, node.lineno, name, node.exc


RAISES = list(_raises())


def _code_of(call: ast.Call) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == "code"), None)


def test_the_scan_sees_the_tree() -> None:
    assert {"NotFound", "Conflict", "ValidationFailed", "IllegalTransition"} <= set(ERRORS)
    assert len(RAISES) > 300


def test_not_found_and_conflict_name_a_specific_code() -> None:
    generic = [
        f"{where}:{line} raise {name}(...)"
        for where, line, name, call in RAISES
        if name in ("NotFound", "Conflict") and _code_of(call) is None
    ]
    assert generic == [], "pass code= (or NotFound.of(resource, key)): " + "; ".join(generic)


def test_a_single_field_refusal_names_its_cause() -> None:
    generic = [
        f"{where}:{line}"
        for where, line, name, call in RAISES
        if name == "ValidationFailed"
        and call.args
        and isinstance(call.args[0], ast.List)
        and len(call.args[0].elts) == 1
        and _code_of(call) is None
    ]
    assert generic == [], "one FieldError, one cause: pass code= at " + "; ".join(generic)


def _literal_codes() -> Iterator[tuple[str, str]]:
    for where, line, _, call in RAISES:
        code = _code_of(call)
        if isinstance(code, ast.Constant) and isinstance(code.value, str):
            yield f"{where}:{line}", code.value
    for name, node in ERRORS.items():
        for stmt in node.body:
            target = stmt.target if isinstance(stmt, ast.AnnAssign) else None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
            value = getattr(stmt, "value", None)
            if (
                isinstance(target, ast.Name)
                and target.id == "code"
                and isinstance(value, ast.Constant)
                and name != "ChainfinError"
            ):
                yield f"class {name}", value.value
    # NotFound.of(resource, ...) and the scoping helpers that call it with ``what``
    for where, tree in MODULES:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func, resource = node.func, None
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "of"
                and _name(func.value) == ("NotFound")
            ):
                resource = node.args[0] if node.args else None
            elif _name(func) in ("bank_record", "own_bank_record") and len(node.args) > 4:
                resource = node.args[4]
            if isinstance(resource, ast.Constant) and isinstance(resource.value, str):
                code = resource.value.replace(" ", "_") + "_not_found"
                yield f"{where}:{node.lineno}", code
    # what the API answers outside ChainfinError: problem(status, code, ...) and the guard
    for where, tree in MODULES:
        if "/api/" not in where:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in ("problem", "_refuse"):
                position = 1 if _name(node.func) == "problem" else 4
                if len(node.args) > position and isinstance(node.args[position], ast.Constant):
                    yield f"{where}:{node.lineno}", str(node.args[position].value)


def test_every_literal_code_is_registered() -> None:
    found = list(_literal_codes())
    assert len(found) > 300
    unknown = sorted({f"{where} {code}" for where, code in found if code not in CODES})
    assert unknown == [], "add these to chainfin.domain.error_codes: " + "; ".join(unknown)


def test_building_an_error_with_an_unregistered_code_fails() -> None:
    with pytest.raises(UnregisteredCode, match="no_such_refusal"):
        Conflict("x", code="no_such_refusal")
    with pytest.raises(UnregisteredCode, match="registered with status 404"):
        Conflict("x", code="loan_not_found")  # a 404 code raised as a 409
    with pytest.raises(UnregisteredCode):
        NotFound.of("spaceship", "s-1")
    assert NotFound.of("credit line", "line_1").code == "credit_line_not_found"
    one = ValidationFailed([FieldError("amount", "must be positive")], code="amount_not_positive")
    assert (one.code, one.status, ChainfinError.status) == ("amount_not_positive", 422, 400)


def test_decision_reasons_are_codes_of_the_same_vocabulary() -> None:
    for rule in decision.RULES:
        assert CODES[rule.code].decision == rule.outcome.value, rule.code
    # the limits a lost race reports are the rules' own codes, and a 409 as well
    for code in (
        "line_frozen",
        "line_expired",
        "line_insufficient",
        "sublimit_insufficient",
        "core_cap_exceeded",
        "group_cap_exceeded",
        "duplicate_financing",
    ):
        assert code in decision.RULE_CODES
        assert (CODES[code].status, CODES[code].decision) == (409, "decline"), code


def test_codes_are_snake_case_and_say_what_to_do() -> None:
    for code, entry in CODES.items():
        assert code == entry.code
        assert code.replace("_", "").isalnum(), code
        assert code == code.lower(), code
        assert all((entry.title, entry.when, entry.action)), code


def test_the_reference_page_is_generated_from_the_registry() -> None:
    committed = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), (
        "regenerate: python -m chainfin.domain.error_codes > docs/errors.md"
    )
    for code in CODES:
        assert f"| `{code}` |" in committed


@pytest.mark.parametrize("module", [error_codes, errors, idempotency])
def test_the_docstring_examples_hold(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert (result.attempted > 0, result.failed) == (True, 0)
