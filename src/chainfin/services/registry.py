"""The chain registry: enterprises, supply relations, banks and platforms.

Batches (file imports, the API's batch endpoints, the synthetic region) are validated whole
before anything is written; one bad row rejects the batch with every problem listed, and
the caller's transaction writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, insert, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from chainfin.adapters.db.models import (
    Bank,
    BankCustomer,
    Enterprise,
    Platform,
    PlatformMember,
    SupplyRelation,
)
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.industry import parse_industry_code
from chainfin.domain.money import Money
from chainfin.domain.registry import BankRecord, EnterpriseRecord, RelationRecord, Role
from chainfin.domain.registry_input import parse_enterprise_row, parse_relation_row
from chainfin.domain.size_class import SizeClassError, classify
from chainfin.services import audit, consent, ledger
from chainfin.services.ledger import Change, EntryDraft
from chainfin.services.ledger_records import row_of
from chainfin.services.pagination import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    paginate,
)
from chainfin.services.scoping import enterprise_condition, relation_condition

CHUNK = 500
Outcome = Literal["created", "linked", "unchanged"]


@dataclass(frozen=True)
class RowResult:
    row: int
    outcome: Outcome
    id: str
    key: str


@dataclass
class ImportReport:
    kind: str
    rows: list[RowResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "created": self.count("created"),
            "linked": self.count("linked"),
            "unchanged": self.count("unchanged"),
            "rows": [r.__dict__ for r in self.rows],
        }


# ---------------------------------------------------------------- helpers


def size_class_of(record: EnterpriseRecord) -> str | None:
    """The 大/中/小/微 class, or None when the data the standard needs is missing."""
    try:
        return classify(
            parse_industry_code(record.industry_code),
            employees=record.employees,
            revenue=record.revenue,
            total_assets=record.total_assets,
        ).size_class.value
    except SizeClassError:
        return None


def _enterprise_row(record: EnterpriseRecord, actor: Principal, now: datetime) -> dict[str, Any]:
    currency = next(
        (m.currency for m in (record.revenue, record.total_assets) if m is not None), "CNY"
    )
    return {
        "id": new_id("enterprise"),
        "uscc": record.uscc,
        "name": record.name,
        "region_code": record.region_code,
        "industry_code": record.industry_code,
        "size_class": size_class_of(record),
        "employees": record.employees,
        "currency": currency,
        "revenue_minor": record.revenue.amount_minor if record.revenue else None,
        "total_assets_minor": record.total_assets.amount_minor if record.total_assets else None,
        "legal_representative": record.legal_representative,
        "phone": record.phone,
        "address": record.address,
        "roles": sorted(r.value for r in record.roles),
        "created_by": actor.label,
        "created_at": now,
        "updated_at": now,
    }


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def ids_by_uscc(session: Session, usccs: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(usccs))
    out: dict[str, str] = {}
    for chunk in _chunks(wanted):
        query = select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(chunk))
        out.update((uscc, eid) for uscc, eid in session.execute(query))
    return out


def require_write(p: Principal, kind: str = "enterprises") -> None:
    """Checked before any input is parsed: a caller without the right learns that first."""
    p.require(Scope.REGISTRY_WRITE)
    if kind != "enterprises":
        return
    if p.enterprise_id is not None and not p.is_system:
        raise Forbidden(
            "an enterprise cannot register other enterprises",
            hint="Enterprises are onboarded by their bank or their industrial internet platform.",
        )


# ---------------------------------------------------------------- enterprises


def import_enterprises(
    session: Session,
    actor: Principal,
    records: Sequence[EnterpriseRecord],
    *,
    first_row: int = 1,
    link_bank_id: str | None = None,
    link_platform_id: str | None = None,
) -> ImportReport:
    """Create enterprises that are new and link every row to the actor's bank or platform.

    A USCC already in the registry is not overwritten: the row reports ``linked`` (newly
    linked to this bank/platform) or ``unchanged``. ``link_*`` lets the operator (CLI) act
    for a bank or platform."""
    require_write(actor)
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(records):
        row = first_row + i
        if rec.uscc in seen:
            errors.append(FieldError("uscc", f"duplicate of row {seen[rec.uscc]}", row))
        seen.setdefault(rec.uscc, row)
    if errors:
        raise ValidationFailed(errors)
    bank_id = actor.bank_id or link_bank_id
    platform_id = actor.platform_id or link_platform_id
    now = utcnow()
    existing = ids_by_uscc(session, seen)
    if not actor.is_system:
        _check_links(session, actor, records, existing, first_row)
    new_rows = [_enterprise_row(r, actor, now) for r in records if r.uscc not in existing]
    for chunk in _chunks(new_rows, 2000):
        session.execute(insert(Enterprise), list(chunk))
    ids = {**existing, **{r["uscc"]: r["id"] for r in new_rows}}
    already: set[str] = set()
    links: list[dict[str, Any]] = []
    link_kind = "bank_customer" if bank_id is not None else "platform_member"
    if bank_id is not None:
        already = _linked(session, BankCustomer, BankCustomer.bank_id, bank_id, ids.values())
        already |= set(session.scalars(select(Bank.enterprise_id).where(Bank.id == bank_id)))
        links = [
            {"bank_id": bank_id, "enterprise_id": i, "since": now, "relationship_manager_id": None}
            for i in sorted(set(ids.values()))
            if i not in already
        ]
        for chunk in _chunks(links, 2000):
            session.execute(insert(BankCustomer), list(chunk))
    elif platform_id is not None:
        already = _linked(
            session, PlatformMember, PlatformMember.platform_id, platform_id, ids.values()
        )
        links = [
            {"platform_id": platform_id, "enterprise_id": i, "since": now}
            for i in sorted(set(ids.values()))
            if i not in already
        ]
        for chunk in _chunks(links, 2000):
            session.execute(insert(PlatformMember), list(chunk))
    link_of = {link["enterprise_id"]: link for link in links}
    drafts = [
        EntryDraft(
            "enterprise.registered",
            [Change("enterprise", row)]
            + ([Change(link_kind, link_of[row["id"]])] if row["id"] in link_of else []),
        )
        for row in new_rows
    ]
    created_ids = {row["id"] for row in new_rows}
    drafts += [
        EntryDraft(f"{link_kind}.linked", [Change(link_kind, link)])
        for link in links
        if link["enterprise_id"] not in created_ids
    ]
    ledger.record(session, actor, drafts)
    report = ImportReport("enterprises")
    for i, rec in enumerate(records):
        eid = ids[rec.uscc]
        outcome: Outcome = (
            "unchanged"
            if rec.uscc in existing and (eid in already or not (bank_id or platform_id))
            else "linked"
            if rec.uscc in existing
            else "created"
        )
        report.rows.append(RowResult(first_row + i, outcome, eid, rec.uscc))
    audit.record(
        session,
        actor,
        "enterprise.import",
        "enterprise",
        None,
        {
            "created": report.count("created"),
            "linked": report.count("linked"),
            "bank_id": bank_id,
            "platform_id": platform_id,
        },
    )
    return report


def _check_links(
    session: Session,
    actor: Principal,
    records: Sequence[EnterpriseRecord],
    existing: dict[str, str],
    first_row: int,
) -> None:
    """Taking on an enterprise that is already registered needs its own act: a bank links
    it as a customer once the enterprise has granted the bank consent; a platform links
    only the members it registered (the operator links existing ones). Otherwise a bank
    could claim any enterprise as its customer and read its private profile, and a
    platform could submit documents in any enterprise's name."""
    ids = [existing[r.uscc] for r in records if r.uscc in existing]
    if not ids:
        return
    errors: list[FieldError] = []
    if actor.bank_id is not None:
        linked = _linked(session, BankCustomer, BankCustomer.bank_id, actor.bank_id, ids)
        linked |= set(session.scalars(select(Bank.enterprise_id).where(Bank.id == actor.bank_id)))
        for i, rec in enumerate(records):
            eid = existing.get(rec.uscc)
            if eid is None or eid in linked:
                continue
            if not consent.has_active_grant(session, eid, actor.bank_id):
                reason = (
                    f"{rec.uscc} is already registered; it becomes your customer once it "
                    "grants your bank consent"
                )
                errors.append(FieldError("uscc", reason, first_row + i))
    elif actor.platform_id is not None:
        members = _linked(
            session, PlatformMember, PlatformMember.platform_id, actor.platform_id, ids
        )
        for i, rec in enumerate(records):
            eid = existing.get(rec.uscc)
            if eid is not None and eid not in members:
                reason = (
                    f"{rec.uscc} is already registered; the platform operator links an "
                    "existing enterprise to a platform"
                )
                errors.append(FieldError("uscc", reason, first_row + i))
    if errors:
        raise ValidationFailed(errors)


def _linked(
    session: Session, model: Any, owner_col: Any, owner: str, ids: Iterable[str]
) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(sorted(set(ids))):
        out.update(
            session.scalars(
                select(model.enterprise_id).where(
                    owner_col == owner, model.enterprise_id.in_(chunk)
                )
            )
        )
    return out


R = TypeVar("R")


def _parse_all(
    rows: Sequence[Mapping[str, object]],
    parse: Callable[..., R | list[FieldError]],
    first_row: int,
) -> list[R]:
    """Validate every row; raise one ValidationFailed listing all problems."""
    records: list[R] = []
    errors: list[FieldError] = []
    for i, raw in enumerate(rows):
        result = parse(raw, row_no=first_row + i)
        if isinstance(result, list):
            errors.extend(result)
        else:
            records.append(result)
    if errors:
        raise ValidationFailed(errors)
    return records


def parse_enterprise_rows(
    rows: Sequence[Mapping[str, object]], *, first_row: int = 1
) -> list[EnterpriseRecord]:
    return _parse_all(rows, parse_enterprise_row, first_row)


def get_enterprise(session: Session, actor: Principal, enterprise_id: str) -> Enterprise:
    actor.require(Scope.REGISTRY_READ)
    ent = session.scalar(
        select(Enterprise).where(Enterprise.id == enterprise_id, enterprise_condition(actor))
    )
    if ent is None:
        raise NotFound(f"no enterprise {enterprise_id!r}", code="enterprise_not_found")
    return ent


def can_see_private(actor: Principal, ent: Enterprise) -> bool:
    """Contact details, headcount and financials: the enterprise itself, its banks, its
    platforms and the operator; a counterparty sees only the public profile."""
    return actor.enterprise_id is None or actor.enterprise_id == ent.id


def list_enterprises(
    session: Session,
    actor: Principal,
    *,
    limit: int = 50,
    cursor: str | None = None,
    role: Role | None = None,
    region_prefix: str | None = None,
    industry_code: str | None = None,
    uscc: str | None = None,
) -> Page[Enterprise]:
    actor.require(Scope.REGISTRY_READ)
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    query = select(Enterprise).where(enterprise_condition(actor))
    if after:
        query = query.where(Enterprise.id > after)
    if region_prefix:
        query = query.where(Enterprise.region_code.startswith(region_prefix))
    if industry_code:
        query = query.where(Enterprise.industry_code == industry_code)
    if uscc:
        query = query.where(Enterprise.uscc == uscc.upper())
    if role is not None:
        # JSON containment differs per engine; roles are few, so filter the page in Python
        # over a generous window and keep paging semantics exact by id.
        items: list[Enterprise] = []
        last: str | None = after
        while len(items) <= limit:
            batch_q = query.where(Enterprise.id > last) if last else query
            batch = list(session.scalars(batch_q.order_by(Enterprise.id).limit(limit * 4)))
            if not batch:
                break
            items.extend(e for e in batch if role.value in e.roles)
            last = batch[-1].id
        page = items[: limit + 1]
    else:
        page = list(session.scalars(query.order_by(Enterprise.id).limit(limit + 1)))
    more = len(page) > limit
    page = page[:limit]
    return Page(page, encode_cursor(page[-1].id) if more and page else None)


def create_enterprise(
    session: Session, actor: Principal, body: Mapping[str, object]
) -> tuple[Enterprise, Outcome]:
    require_write(actor)
    record = parse_enterprise_rows([body], first_row=1)[0]
    report = import_enterprises(session, actor, [record])
    row = report.rows[0]
    ent = session.get(Enterprise, row.id)
    assert ent is not None  # noqa: S101 - just written
    return ent, row.outcome


EXPORT_BATCH = 500


def _batches(
    session: Session,
    query: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[str],
    batch: int,
) -> Iterator[Any]:
    """The rows of ``query`` in ``key`` order, read ``batch`` at a time."""
    after: str | None = None
    while True:
        page = query if after is None else query.where(key > after)
        rows = list(session.execute(page.order_by(key).limit(batch)))
        if not rows:
            return
        yield from rows
        after = getattr(rows[-1][0], key.key)


def export_enterprises(
    session: Session, actor: Principal, *, batch: int = EXPORT_BATCH
) -> Iterator[dict[str, Any]]:
    """Every visible enterprise as a row in the import format (round-trips). The actor is
    checked now; the rows are read ``batch`` at a time as the iterator is consumed."""
    actor.require(Scope.REGISTRY_READ)
    query = select(Enterprise).where(enterprise_condition(actor))
    return (_export_row(actor, ent) for (ent,) in _batches(session, query, Enterprise.id, batch))


def _export_row(actor: Principal, ent: Enterprise) -> dict[str, Any]:
    private = can_see_private(actor, ent)
    return {
        "uscc": ent.uscc,
        "name": ent.name,
        "region_code": ent.region_code,
        "industry_code": ent.industry_code,
        "roles": ";".join(ent.roles),
        "employees": ent.employees if private else None,
        "revenue": _money_text(ent.revenue_minor, ent.currency) if private else None,
        "total_assets": _money_text(ent.total_assets_minor, ent.currency) if private else None,
        "currency": ent.currency,
        "legal_representative": ent.legal_representative if private else None,
        "phone": ent.phone if private else None,
        "address": ent.address if private else None,
    }


def _money_text(minor: int | None, currency: str) -> str | None:
    return None if minor is None else Money(minor, currency).to_decimal_string()


# ---------------------------------------------------------------- relations


def parse_relation_rows(
    rows: Sequence[Mapping[str, object]], *, first_row: int = 1
) -> list[RelationRecord]:
    return _parse_all(rows, parse_relation_row, first_row)


def import_relations(
    session: Session, actor: Principal, records: Sequence[RelationRecord], *, first_row: int = 1
) -> ImportReport:
    """Record supply relations between registered enterprises the actor may act for.

    A bank may record relations touching its customers, a platform between its members, an
    enterprise only relations it is a party to. Existing relations report ``unchanged``."""
    actor.require(Scope.REGISTRY_WRITE)
    usccs = {r.buyer_uscc for r in records} | {r.seller_uscc for r in records}
    ids = ids_by_uscc(session, usccs)
    visible = _visible_ids(session, actor, ids.values())
    errors: list[FieldError] = []
    seen: dict[tuple[str, str, str], int] = {}
    for i, rec in enumerate(records):
        row = first_row + i
        for fname, code in (("buyer_uscc", rec.buyer_uscc), ("seller_uscc", rec.seller_uscc)):
            if code not in ids:
                errors.append(FieldError(fname, f"{code} is not registered; import it first", row))
        if rec.buyer_uscc in ids and rec.seller_uscc in ids:
            b, s = ids[rec.buyer_uscc], ids[rec.seller_uscc]
            if actor.enterprise_id is not None and not actor.is_system:
                if actor.enterprise_id not in (b, s):
                    errors.append(
                        FieldError(
                            "buyer_uscc", "you can only record relations you are a party to", row
                        )
                    )
            elif not actor.is_system and not ({b, s} & visible):
                errors.append(
                    FieldError("buyer_uscc", "neither party is your customer or member", row)
                )
        key = (rec.buyer_uscc, rec.seller_uscc, rec.product_category)
        if key in seen:
            errors.append(FieldError("product_category", f"duplicate of row {seen[key]}", row))
        seen.setdefault(key, row)
    if errors:
        raise ValidationFailed(errors)
    triples = [(ids[r.buyer_uscc], ids[r.seller_uscc], r.product_category) for r in records]
    existing: dict[tuple[str, str, str], str] = {}
    for chunk in _chunks(triples):
        for rid, b, s, c in session.execute(
            select(
                SupplyRelation.id,
                SupplyRelation.buyer_id,
                SupplyRelation.seller_id,
                SupplyRelation.product_category,
            ).where(
                tuple_(
                    SupplyRelation.buyer_id,
                    SupplyRelation.seller_id,
                    SupplyRelation.product_category,
                ).in_(list(chunk))
            )
        ):
            existing[(b, s, c)] = rid
    now = utcnow()
    report = ImportReport("relations")
    new_rows = []
    for i, (rec, triple) in enumerate(zip(records, triples, strict=True)):
        if triple in existing:
            report.rows.append(
                RowResult(first_row + i, "unchanged", existing[triple], _rel_key(rec))
            )
            continue
        rid = new_id("relation")
        buyer_id, seller_id, category = triple
        new_rows.append(
            {
                "id": rid,
                "buyer_id": buyer_id,
                "seller_id": seller_id,
                "product_category": category,
                "since": rec.since,
                "created_by": actor.label,
                "created_at": now,
            }
        )
        report.rows.append(RowResult(first_row + i, "created", rid, _rel_key(rec)))
    for chunk in _chunks(new_rows, 2000):
        session.execute(insert(SupplyRelation), list(chunk))
    ledger.record(
        session, actor, [EntryDraft("relation.recorded", [Change("relation", r)]) for r in new_rows]
    )
    audit.record(
        session, actor, "relation.import", "relation", None, {"created": report.count("created")}
    )
    return report


def _rel_key(rec: RelationRecord) -> str:
    return f"{rec.seller_uscc}->{rec.buyer_uscc}:{rec.product_category}"


def _visible_ids(session: Session, actor: Principal, ids: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(sorted(set(ids))):
        out.update(
            session.scalars(
                select(Enterprise.id).where(Enterprise.id.in_(chunk), enterprise_condition(actor))
            )
        )
    return out


@dataclass(frozen=True)
class RelationView:
    id: str
    buyer_id: str
    buyer_uscc: str
    buyer_name: str
    seller_id: str
    seller_uscc: str
    seller_name: str
    product_category: str
    since: date


def list_relations(
    session: Session,
    actor: Principal,
    *,
    limit: int = 50,
    cursor: str | None = None,
    enterprise_id: str | None = None,
) -> Page[RelationView]:
    actor.require(Scope.REGISTRY_READ)
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    buyer, seller = aliased(Enterprise), aliased(Enterprise)
    query = (
        select(SupplyRelation, buyer, seller)
        .join(buyer, buyer.id == SupplyRelation.buyer_id)
        .join(seller, seller.id == SupplyRelation.seller_id)
        .where(relation_condition(actor))
    )
    if enterprise_id:
        get_enterprise(session, actor, enterprise_id)
        query = query.where(
            or_(SupplyRelation.buyer_id == enterprise_id, SupplyRelation.seller_id == enterprise_id)
        )
    if after:
        query = query.where(SupplyRelation.id > after)
    rows = list(session.execute(query.order_by(SupplyRelation.id).limit(limit + 1)))
    more = len(rows) > limit
    items = [
        RelationView(r.id, b.id, b.uscc, b.name, s.id, s.uscc, s.name, r.product_category, r.since)
        for r, b, s in rows[:limit]
    ]
    return Page(items, encode_cursor(items[-1].id) if more and items else None)


def export_relations(
    session: Session, actor: Principal, *, batch: int = EXPORT_BATCH
) -> Iterator[dict[str, Any]]:
    """Every visible relation as a row in the import format, read ``batch`` at a time (the
    actor is checked now)."""
    actor.require(Scope.REGISTRY_READ)
    buyer, seller = aliased(Enterprise), aliased(Enterprise)
    query = (
        select(SupplyRelation, buyer.uscc, seller.uscc)
        .join(buyer, buyer.id == SupplyRelation.buyer_id)
        .join(seller, seller.id == SupplyRelation.seller_id)
        .where(relation_condition(actor))
    )
    return (
        {
            "buyer_uscc": b,
            "seller_uscc": s,
            "product_category": r.product_category,
            "since": r.since.isoformat(),
        }
        for r, b, s in _batches(session, query, SupplyRelation.id, batch)
    )


# ---------------------------------------------------------------- banks and platforms


def create_bank(session: Session, actor: Principal, record: BankRecord) -> Bank:
    """Register a bank (operator only). Its enterprise record must exist with role bank."""
    if not actor.is_system:
        raise Forbidden("only the platform operator registers banks", code="operator_only")
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == record.uscc))
    if ent is None:
        raise ValidationFailed(
            [FieldError("uscc", f"{record.uscc} is not registered as an enterprise")],
            code="enterprise_unknown",
        )
    if Role.BANK.value not in ent.roles:
        raise ValidationFailed(
            [FieldError("uscc", f"{ent.name} does not have the bank role")],
            code="bank_role_missing",
        )
    if session.scalar(select(Bank.id).where(Bank.code == record.code)) is not None:
        raise Conflict(f"bank code {record.code!r} is taken", code="bank_code_taken")
    bank = Bank(
        id=new_id("bank"),
        code=record.code,
        name=record.name,
        enterprise_id=ent.id,
        created_at=utcnow(),
    )
    session.add(bank)
    ledger.one(session, actor, "bank.registered", Change("bank", row_of(bank)))
    audit.record(session, actor, "bank.create", "bank", bank.id, {"code": record.code})
    return bank


def list_banks(
    session: Session, actor: Principal, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[Bank]:
    """Banks are public to every signed-in principal: enterprises choose whom to work with.
    In code order."""
    actor.require(Scope.REGISTRY_READ)
    return paginate(session, select(Bank), Bank.code, cursor=cursor, limit=limit)


def enterprise_by_uscc(session: Session, uscc: str) -> Enterprise:
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.strip().upper()))
    if ent is None:
        raise NotFound(f"no enterprise with USCC {uscc!r}", code="enterprise_not_found")
    return ent


def bank_by_code(session: Session, code: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.code == code))
    if bank is None:
        raise NotFound(f"no bank with code {code!r}", code="bank_not_found")
    return bank


def create_platform(session: Session, actor: Principal, *, code: str, name: str) -> Platform:
    if not actor.is_system:
        raise Forbidden("only the platform operator registers platforms", code="operator_only")
    if session.scalar(select(Platform.id).where(Platform.code == code)) is not None:
        raise Conflict(f"platform code {code!r} is taken", code="platform_code_taken")
    platform = Platform(id=new_id("platform"), code=code, name=name, created_at=utcnow())
    session.add(platform)
    ledger.one(session, actor, "platform.registered", Change("platform", row_of(platform)))
    audit.record(session, actor, "platform.create", "platform", platform.id, {"code": code})
    return platform


def platform_by_code(session: Session, code: str) -> Platform:
    platform = session.scalar(select(Platform).where(Platform.code == code))
    if platform is None:
        raise NotFound(f"no platform with code {code!r}", code="platform_not_found")
    return platform


def link_customers(session: Session, actor: Principal, bank_id: str, pairs: Sequence[str]) -> int:
    """Operator: make enterprises (by id) customers of a bank. Returns how many were new."""
    if not actor.is_system:
        raise Forbidden("only the platform operator links customers in bulk", code="operator_only")
    already = _linked(session, BankCustomer, BankCustomer.bank_id, bank_id, pairs)
    now = utcnow()
    rows = [
        {"bank_id": bank_id, "enterprise_id": e, "since": now, "relationship_manager_id": None}
        for e in sorted(set(pairs) - already)
    ]
    for chunk in _chunks(rows, 2000):
        session.execute(insert(BankCustomer), list(chunk))
    ledger.record(
        session,
        actor,
        [EntryDraft("bank_customer.linked", [Change("bank_customer", r)]) for r in rows],
    )
    return len(rows)


def update_contacts(
    session: Session,
    actor: Principal,
    uscc: str,
    *,
    legal_representative: str | None,
    address: str | None,
    phone: str | None,
) -> Enterprise:
    """Correct an enterprise's registry contacts (operator or the enterprise's bank), on the
    ledger like any other change."""
    require_write(actor)
    ent = session.scalar(
        select(Enterprise).where(Enterprise.uscc == uscc, enterprise_condition(actor))
    )
    if ent is None:
        raise NotFound(f"no enterprise with USCC {uscc!r}", code="enterprise_not_found")
    ent.legal_representative, ent.address, ent.phone = legal_representative, address, phone
    ent.updated_at = utcnow()
    session.flush()
    ledger.one(session, actor, "enterprise.updated", Change("enterprise", row_of(ent)))
    audit.record(session, actor, "enterprise.update", "enterprise", ent.id, {"fields": "contacts"})
    return ent
