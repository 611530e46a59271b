"""Turn untrusted rows (CSV, JSON, API bodies) into registry records, or precise errors.

Each function returns either a record or the complete list of problems with that row, so a
batch can report every bad field at once and write nothing.

>>> row = {"uscc": "91110000600037341L", "name": "x", "region_code": "110105",
...        "industry_code": "C36", "roles": "supplier"}
>>> parse_enterprise_row(row, row_no=2).name
'x'
>>> [str(e) for e in parse_enterprise_row({**row, "uscc": "123"}, row_no=3)]
['row 3, uscc: length: expected 18 characters, got 3']
>>> [str(e) for e in parse_enterprise_row({**row, "name": "x\x1b[31m"}, row_no=4)]
['row 4, name: U+001B ESCAPE at position 2: control characters are not allowed']

Every text value is checked against ``domain.text``, amounts must be decimal strings (not
JSON numbers), headcounts whole ASCII numbers up to ``MAX_EMPLOYEES`` and dates within the
business-date range (``domain.bounds``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from chainfin.domain.bounds import check_business_date
from chainfin.domain.errors import FieldError
from chainfin.domain.industry import UnknownIndustry, parse_industry_code
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.region import check_region_code
from chainfin.domain.registry import EnterpriseRecord, RelationRecord, Role
from chainfin.domain.text import check_text
from chainfin.domain.uscc import check_uscc

ENTERPRISE_FIELDS = (
    "uscc",
    "name",
    "region_code",
    "industry_code",
    "roles",
    "employees",
    "revenue",
    "total_assets",
    "currency",
    "legal_representative",
    "phone",
    "address",
)
RELATION_FIELDS = ("buyer_uscc", "seller_uscc", "product_category", "since")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_MAX_TEXT = {"name": 200, "legal_representative": 100, "phone": 40, "address": 300}
MAX_EMPLOYEES = 10_000_000


def _text(row: Mapping[str, object], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _unknown_fields(
    row: Mapping[str, object], allowed: tuple[str, ...], row_no: int | None
) -> list[FieldError]:
    expected = f"unknown field (expected one of: {', '.join(allowed)})"
    out = [
        FieldError(str(k) if check_text(str(k)) is None else ascii(k), expected, row_no)
        for k in row
        if k not in allowed
    ]
    for key, value in row.items():
        texts = value if isinstance(value, list | tuple) else [value]
        for text in texts:
            if key in allowed and isinstance(text, str) and (why := check_text(text)) is not None:
                out.append(FieldError(str(key), why, row_no))
                break
    return out


def parse_roles(text: str) -> frozenset[Role]:
    parts = [p.strip().lower() for p in text.replace(",", ";").replace("|", ";").split(";")]
    roles = set()
    for part in filter(None, parts):
        try:
            roles.add(Role(part))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {part!r} (known: {known})") from None
    if not roles:
        raise ValueError("at least one role is required")
    return frozenset(roles)


def parse_enterprise_row(
    row: Mapping[str, object], *, row_no: int | None = None
) -> EnterpriseRecord | list[FieldError]:
    errors = _unknown_fields(row, ENTERPRISE_FIELDS, row_no)

    def err(field: str, reason: str) -> None:
        errors.append(FieldError(field, reason, row_no))

    required = {k: _text(row, k) for k in ("uscc", "name", "region_code", "industry_code")}
    for key, value in required.items():
        if value is None:
            err(key, "is required")
    uscc = required["uscc"]
    if uscc is not None:
        verdict = check_uscc(uscc)
        if not verdict.valid:
            err("uscc", verdict.reason)
        uscc = verdict.code
    region = required["region_code"]
    if region is not None and (why := check_region_code(region)) is not None:
        err("region_code", why)
    industry_code = required["industry_code"]
    if industry_code is not None:
        try:
            industry = parse_industry_code(industry_code)
            if industry.division is None:
                err("industry_code", "a two-digit division is required, e.g. C36")
            industry_code = industry.code
        except UnknownIndustry as exc:
            err("industry_code", str(exc))
    roles: frozenset[Role] = frozenset()
    roles_value = row.get("roles")
    roles_text = (
        ";".join(str(r) for r in roles_value)
        if isinstance(roles_value, list | tuple)
        else _text(row, "roles")
    )
    if roles_text is None:
        err("roles", "is required (e.g. supplier, or core;dealer)")
    else:
        try:
            roles = parse_roles(roles_text)
        except ValueError as exc:
            err("roles", str(exc))
    employees: int | None = None
    emp_text = _text(row, "employees")
    if emp_text is not None:
        if not (emp_text.isascii() and emp_text.isdecimal()):
            err("employees", f"{emp_text!r} is not a whole number of people")
        elif int(emp_text) > MAX_EMPLOYEES:
            err("employees", f"more than {MAX_EMPLOYEES} people")
        else:
            employees = int(emp_text)
    currency = _text(row, "currency") or "CNY"
    amounts: dict[str, Money | None] = {}
    for key in ("revenue", "total_assets"):
        text = _text(row, key)
        amounts[key] = None
        raw = row.get(key)
        if raw is not None and not isinstance(raw, str):
            err(key, f'must be a decimal string like "1000000.00", not the JSON value {raw!r}')
        elif text is not None:
            try:
                amounts[key] = Money.parse(text, currency)
                if amounts[key] is not None and amounts[key].amount_minor < 0:  # type: ignore[union-attr]
                    err(key, "must not be negative")
            except MoneyError as exc:
                err(key, exc.message)
    for key, limit in _MAX_TEXT.items():
        text = _text(row, key)
        if text is not None and len(text) > limit:
            err(key, f"longer than {limit} characters")
    if errors:
        return errors
    name = required["name"]
    if uscc is None or name is None or region is None or industry_code is None:
        raise AssertionError("unreachable: missing required fields are reported above")
    return EnterpriseRecord(
        uscc=uscc,
        name=name,
        region_code=region,
        industry_code=industry_code,
        roles=roles,
        employees=employees,
        revenue=amounts["revenue"],
        total_assets=amounts["total_assets"],
        legal_representative=_text(row, "legal_representative"),
        phone=_text(row, "phone"),
        address=_text(row, "address"),
    )


def parse_relation_row(
    row: Mapping[str, object], *, row_no: int | None = None
) -> RelationRecord | list[FieldError]:
    errors = _unknown_fields(row, RELATION_FIELDS, row_no)
    values = {k: _text(row, k) for k in RELATION_FIELDS}
    for key, value in values.items():
        if value is None:
            errors.append(FieldError(key, "is required", row_no))
    codes: dict[str, str] = {}
    for key in ("buyer_uscc", "seller_uscc"):
        value = values[key]
        if value is not None:
            verdict = check_uscc(value)
            if not verdict.valid:
                errors.append(FieldError(key, verdict.reason, row_no))
            codes[key] = verdict.code
    if codes.get("buyer_uscc") and codes.get("buyer_uscc") == codes.get("seller_uscc"):
        errors.append(FieldError("seller_uscc", "an enterprise cannot supply itself", row_no))
    category = values["product_category"]
    if category is not None and len(category) > 100:
        errors.append(FieldError("product_category", "longer than 100 characters", row_no))
    since: date | None = None
    since_text = values["since"]
    if since_text is not None:
        try:
            if not _ISO_DATE.fullmatch(since_text):
                raise ValueError(since_text)
            since = date.fromisoformat(since_text)
        except ValueError:
            errors.append(FieldError("since", f"{since_text!r} is not a date YYYY-MM-DD", row_no))
        if since is not None and (why := check_business_date(since)) is not None:
            errors.append(FieldError("since", why, row_no))
    if errors:
        return errors
    if category is None or since is None:
        raise AssertionError("unreachable: missing fields are reported above")
    return RelationRecord(codes["buyer_uscc"], codes["seller_uscc"], category, since)
