"""The role × tenant × operation matrix: every operation in the OpenAPI document, tried by
every kind of principal against records that belong to another tenant.

Principals: bank A's and bank B's staff in each role, an enterprise in A's chain and an
unrelated enterprise, API clients with every scope (a bank's, an enterprise's and an
industrial platform's), and the platform operator's people (an operator and an auditor).
Records: the two mirrored tenants of ``tenancy_world`` — at least one of every kind each.

For a principal, a record is foreign when it belongs to another tenant, or, for an
enterprise, when it is in its own bank's tenant but the enterprise is not a party to it.
Each operation is probed with foreign records in its path (or named in its body) and a valid
body, so that only tenancy can refuse it. Any 2xx fails the test, except for the operations
and principals in :data:`ALLOWED`, each with its reason — and even those must not carry a
foreign record's id or a foreign secret in their answer. A 5xx always fails. After the run,
no ledger entry written by a probe may touch a foreign record.

:data:`PROBES` must name every operation: a new operation without a probe fails
``test_every_operation_is_probed``.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.models import LedgerEntry
from chainfin.ledger.note import KeyKind, NoteSigner
from strategy_csv import market_files
from tenancy_world import (
    CAMT,
    DATA,
    PASSWORD,
    SITE_VISIT,
    TODAY,
    Obj,
    TenancyWorld,
    Tenant,
    build,
    cosignature_line,
)

# ------------------------------------------------------------------------------ principals


@dataclass(frozen=True)
class Who:
    name: str
    home: str  # "A", "B" or "-" (no tenant)
    kind: str  # staff, enterprise, client, operator
    member: str | None = None  # the enterprise (by name in its tenant) it acts for
    client: str | None = None  # the client's key in TenancyWorld.clients

    @property
    def is_bank(self) -> bool:
        return self.home in ("A", "B") and self.member is None


WHO: tuple[Who, ...] = (
    *(
        Who(f"{t.lower()}-{r}", t, "staff")
        for t in ("A", "B")
        for r in ("rm", "risk", "approver", "admin", "auditor")
    ),
    Who("a-t1", "A", "enterprise", member="t1"),  # an enterprise in A's chain
    Who("x", "-", "enterprise"),  # an enterprise in no tenant's chain
    Who("client-a", "A", "client", client="client-a"),  # bank A's client, every scope
    Who("client-a-t1", "A", "client", member="t1", client="client-a-t1"),
    Who("client-plat", "-", "client", client="client-plat"),  # the platform's, x a member
    Who("op", "-", "operator"),  # the platform operator
    Who("pa", "-", "operator"),  # the platform auditor
)

# Kinds whose ids in an answer would leak another tenant's record (enterprise ids and
# registrations have public parts; witnesses are public keys; entries are numbers).
PRIVATE = frozenset(
    {
        "document",
        "consent",
        "chain",
        "programme",
        "confirmation",
        "credential",
        "piece",
        "quote",
        "financing",
        "invitation",
        "line",
        "cap",
        "price",
        "application",
        "task",
        "loan",
        "disbursement",
        "statement",
        "alert",
        "device",
        "model",
        "journal",
        "secret",
    }
)


@dataclass
class Ctx:
    who: Who
    world: TenancyWorld

    @property
    def victim_tenant(self) -> Tenant:
        return self.world.tenants["A" if self.who.home == "B" else "B"]

    @property
    def home(self) -> Tenant | None:
        return self.world.tenants.get(self.who.home)

    def foreign(self, kind: str) -> list[Obj]:
        """Up to two foreign records of ``kind``: the other tenant's, and for an enterprise
        one of its own bank's tenant it is not a party to."""
        out: list[Obj] = []
        other = list(self.victim_tenant.of(kind))
        if other:
            out.append(other[0])
        if self.who.home == "-":
            own_side = self.world.tenants["A"].of(kind)
            if own_side:
                out.append(own_side[0])
        elif self.who.member is not None and self.home is not None:
            strangers = [o for o in self.home.of(kind) if self.who.member not in o.parties]
            if strangers:
                out.append(strangers[0])
        return out

    def victim(self, kind: str) -> Obj | None:
        found = self.foreign(kind)
        return found[0] if found else None

    def own(self, kind: str, **extra: str) -> Obj | None:
        """A record of the principal's own: its bank's, or one its enterprise is party to
        (with these ``extra`` values)."""
        if self.home is None:
            return None
        for o in self.home.of(kind):
            if self.who.member is not None and self.who.member not in o.parties:
                continue
            if all(o.extra.get(k) == v for k, v in extra.items()):
                return o
        return None

    def all_foreign(self) -> list[Obj]:
        out = []
        for t in self.world.tenants.values():
            for o in t.objects:
                if t.name != self.who.home or (
                    self.who.member is not None and self.who.member not in o.parties
                ):
                    out.append(o)
        return out


# ------------------------------------------------------------------------------ requests


@dataclass
class Req:
    path: str
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    what: str = ""


Make = Callable[[Ctx], list[Req]]


def _fill(template: str, **values: str) -> str:
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


PATH_KIND = {
    "enterprise_id": "enterprise",
    "chain_id": "chain",
    "document_id": "document",
    "registration_id": "registration",
    "consent_id": "consent",
    "programme_id": "programme",
    "piece_id": "piece",
    "quote_id": "quote",
    "credential_id": "credential",
    "journal_id": "journal",
    "line_id": "line",
    "application_id": "application",
    "task_id": "task",
    "file_id": "disbursement",
    "import_id": "statement",
    "loan_id": "loan",
    "alert_id": "alert",
    "model_id": "model",
    "ref": "device",
}


def on_foreign(kind: str, body: Callable[[Ctx, Obj], Any] | None = None, **extra: Any) -> Make:
    """The operation on each foreign record of ``kind`` in its path."""

    def make_for(template: str) -> Make:
        def make(ctx: Ctx) -> list[Req]:
            out = []
            for obj in ctx.foreign(kind):
                values = {}
                for name in _params(template):
                    values[name] = _value(name, obj, ctx)
                out.append(
                    Req(
                        _fill(template, **values),
                        json=body(ctx, obj) if body else None,
                        what=f"{kind} {obj.tenant}",
                        **extra,
                    )
                )
            return out

        return make

    return make_for  # type: ignore[return-value]


def _params(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


def _value(name: str, obj: Obj, ctx: Ctx) -> str:
    if name == "programme_id" and obj.kind == "invitation":
        return obj.extra["programme"]
    if name == "invitation_id" or PATH_KIND.get(name) == obj.kind:
        return obj.id
    if name == "n":
        return "1"
    if name == "name":
        return obj.extra.get("name", obj.id)
    if name == "index":
        return obj.id
    if name == "entry_id":
        return obj.extra["entry_id"]
    if name == "book":
        return obj.id
    if name == "account":
        return "6011"
    raise AssertionError(f"no value for {{{name}}} from a {obj.kind}")


def once(builder: Callable[[Ctx], Req | None]) -> Make:
    def make(ctx: Ctx) -> list[Req]:
        req = builder(ctx)
        return [req] if req is not None else []

    return make


def plain(path: str, **params: Any) -> Make:
    return once(lambda ctx: Req(path, params=dict(params)))


# Bodies that are valid, so that only tenancy can refuse the request.
ON = TODAY.isoformat()
LATER = (TODAY + timedelta(days=30)).isoformat()
with DATA.open(newline="") as _f:
    ROWS = [dict(r) for r in list(csv.DictReader(_f))[:120]]
STATEMENT_CSV = """item,amount
as_of,2025-12-31
period_start,2025-01-01
period_end,2025-12-31
cash,1000000.00
receivables,3000000.00
inventory,2000000.00
current_assets,8000000.00
total_assets,20000000.00
payables,1500000.00
current_liabilities,4000000.00
total_liabilities,12000000.00
equity,8000000.00
revenue,36500000.00
cost_of_sales,21900000.00
operating_profit,3000000.00
interest_expense,400000.00
net_profit,2000000.00
"""


def _uscc_of(obj: Obj | None) -> str:
    return obj.extra["uscc"] if obj is not None else "91320505MA00000000"


def _my_bank(ctx: Ctx) -> str:
    return ctx.home.code if ctx.home is not None else "BKC"


def _my_uscc(ctx: Ctx) -> str:
    if ctx.home is not None and ctx.who.member is not None:
        return ctx.home.usccs[ctx.who.member]
    return ctx.world.x_uscc


def _enterprise_row(ctx: Ctx) -> dict[str, Any]:
    v = ctx.victim("enterprise")
    return {
        "uscc": _uscc_of(v),
        "name": "taken over",
        "region_code": "320505",
        "industry_code": "C36",
        "roles": "supplier",
    }


def _relation(ctx: Ctx) -> dict[str, Any]:
    t = ctx.victim_tenant
    return {
        "buyer_uscc": t.usccs["dealer"],
        "seller_uscc": t.usccs["t2"],
        "product_category": "fake",
        "since": "2024-01-01",
    }


def _invoice(ctx: Ctx) -> dict[str, Any]:
    t = ctx.victim_tenant
    return {
        "kind": "invoice",
        "number": f"FORGED-{ctx.who.name}",
        "seller_uscc": t.usccs["t1"],
        "buyer_uscc": t.usccs["core"],
        "issue_date": (TODAY - timedelta(days=2)).isoformat(),
        "currency": "CNY",
        "total": "1000.00",
        "tax": "0.00",
        "invoice_number": "26320000009999999999",
        "due_date": LATER,
    }


def _application(ctx: Ctx) -> dict[str, Any]:
    t = ctx.victim_tenant
    doc = next(o for o in t.of("document") if "t1" in o.parties)
    return {
        "bank": t.code,
        "product": t.product_codes[0],
        "amount": "100000.00",
        "tenor_months": 3,
        "method": "bullet",
        "underlying": {"kind": "invoice", "ref": doc.id},
        "payee": {"name": "attacker", "account": "6222020200112233445", "agent": "102100099996"},
        "on": ON,
    }


def _task_of(kind: str) -> Make:
    def make(ctx: Ctx) -> list[Req]:
        out = []
        for t in ctx.world.tenants.values():
            if t.name == ctx.who.home and ctx.who.member is None:
                continue
            for o in t.of("task"):
                if o.extra["task_kind"] == kind:
                    path = f"/v1/due-diligence-tasks/{o.id}/" + kind.replace("_", "-")
                    if kind == "site_visit":
                        out.append(Req(path, json=SITE_VISIT, what=f"task {t.name}"))
                    else:
                        out.append(
                            Req(
                                path,
                                content=STATEMENT_CSV.encode(),
                                content_type="text/csv",
                                what=f"task {t.name}",
                            )
                        )
                    break
        return out

    return make


def _book(path: str) -> Make:
    def make(ctx: Ctx) -> list[Req]:
        t = ctx.victim_tenant
        return [Req(_fill(path, book=t.code, account="6011"), what=f"book {t.name}")]

    return make


def _entries(path: str) -> Make:
    def make(ctx: Ctx) -> list[Req]:
        out = []
        for o in ctx.foreign("entry"):
            out.append(
                Req(_fill(path, index=o.id, entry_id=o.extra["entry_id"]), what=f"entry {o.tenant}")
            )
        return out

    return make


def _model_by_name(ctx: Ctx) -> list[Req]:
    t = ctx.victim_tenant
    return [
        Req(f"/v1/risk/models/{t.model_name}/score", json={"rows": ROWS[:5]}, what="model name")
    ]


def _cosign(ctx: Ctx) -> list[Req]:
    witness = ctx.victim_tenant.of("witness")[0].id
    return [
        Req(
            "/v1/ledger/checkpoints/1/cosignatures",
            json={"signature_line": cosignature_line(witness)},
            what="foreign witness",
        )
    ]


def _bind_own_device_to_foreign_loan(ctx: Ctx) -> list[Req]:
    out = on_foreign(
        "device",
        lambda c, o: {
            "loan_id": c.own("loan").id if c.own("loan") else "lon_x",
            "item": "copper foil",
        },
    )(  # type: ignore[operator]
        "/v1/iot/devices/{ref}/bind"
    )(ctx)
    device, loan = ctx.own("device", device_kind="weight"), ctx.victim("loan")
    if device is not None and loan is not None:
        out.append(
            Req(
                f"/v1/iot/devices/{device.id}/bind",
                json={"loan_id": loan.id, "item": "copper foil"},
                what="own device, foreign loan",
            )
        )
    wb = ctx.victim_tenant.of("document")
    waybill = next((o for o in wb if o.parties == frozenset({"t2", "t1"})), None)
    device = ctx.own("device", device_kind="gps")
    if device is not None and waybill is not None:
        out.append(
            Req(
                f"/v1/iot/devices/{device.id}/bind",
                json={
                    "waybill_id": waybill.id,
                    "waypoints": [[31.3, 120.6], [31.2, 121.4]],
                    "max_km": 20,
                },
                what="own device, foreign waybill",
            )
        )
    return out


def _device_by_serial(ctx: Ctx) -> list[Req]:
    out = on_foreign("device")("/v1/iot/devices/{ref}")(ctx)  # type: ignore[operator]
    v = ctx.victim("device")
    if v is not None:
        out.append(Req(f"/v1/iot/devices/{v.extra['serial']}", what="device by serial"))
    return out


def _own_piece(body: Callable[[Ctx], dict[str, Any]], action: str) -> Make:
    """An enterprise's own piece, with a body that names another tenant."""

    def make(ctx: Ctx) -> list[Req]:
        out = on_foreign("piece", lambda c, o: body(c))(
            f"/v1/credentials/pieces/{{piece_id}}/{action}"
        )(ctx)  # type: ignore[operator]
        mine = ctx.own("piece", holder=ctx.who.member or "")
        if mine is not None and ctx.who.member is not None:
            out.append(
                Req(f"/v1/credentials/pieces/{mine.id}/{action}", json=body(ctx), what="own piece")
            )
        return out

    return make


def _narrowed(path: str, **filters: Callable[[Tenant], str]) -> Make:
    """A list, plain and narrowed by each filter to another tenant's counterparty (its core,
    its supplier, its bank): a filter narrows the caller's own list, never widens it."""

    def make(ctx: Ctx) -> list[Req]:
        victim = ctx.victim_tenant
        out = [Req(path, params={"include_closed": True} if "pieces" in path else {})]
        for name, value in filters.items():
            out.append(Req(path, params={name: value(victim)}, what=f"{name} of {victim.name}"))
        return out

    return make


def _disburse(ctx: Ctx) -> list[Req]:
    loan = ctx.victim("loan")
    body = {
        "debtor_name": "attacker",
        "debtor_account": "110000000000000009",
        "debtor_agent": "102100099996",
        "execution_on": LATER,
    }
    return (
        [Req("/v1/disbursements", json={**body, "loan_ids": [loan.id]}, what="foreign loan")]
        if loan
        else []
    )


def _revoke_token(ctx: Ctx) -> list[Req]:
    """Revoking needs the token itself (whoever holds one may end it): a made-up one."""
    return [
        Req(
            "/oauth/revoke",
            content=b"token=eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
            content_type="application/x-www-form-urlencoded",
            what="a made-up token",
        )
    ]


# The probe of every operation. Writes name foreign records in their path or body.
PROBES: dict[tuple[str, str], Make] = {}


def probe(method: str, path: str, make: Make | Callable[[str], Make]) -> None:
    """Register a probe; ``on_foreign(...)`` results are completed with the path."""
    m = make(path) if getattr(make, "__name__", "") == "make_for" else make
    PROBES[(method, path)] = m  # type: ignore[assignment]


# authentication and the caller itself
probe("GET", "/healthz", plain("/healthz"))
probe("GET", "/readyz", plain("/readyz"))
probe("POST", "/oauth/token", once(lambda c: None))  # signs in; probed by every login below
probe("POST", "/oauth/revoke", _revoke_token)
probe("GET", "/oauth/jwks", plain("/oauth/jwks"))
probe("GET", "/v1/me", plain("/v1/me"))
# registry
probe("GET", "/v1/enterprises", plain("/v1/enterprises", limit=500))
probe("POST", "/v1/enterprises", once(lambda c: Req("/v1/enterprises", json=_enterprise_row(c))))
probe("GET", "/v1/enterprises/{enterprise_id}", on_foreign("enterprise"))
probe("GET", "/v1/enterprises/{enterprise_id}/relations", on_foreign("enterprise"))
probe("GET", "/v1/relations", plain("/v1/relations", limit=500))
probe("POST", "/v1/relations", once(lambda c: Req("/v1/relations", json=_relation(c))))
probe(
    "POST",
    "/v1/registry/{kind}/import",
    lambda c: [
        Req("/v1/registry/enterprises/import", json=[_enterprise_row(c)], what="enterprise"),
        Req("/v1/registry/relations/import", json=[_relation(c)], what="relation"),
    ],
)
probe(
    "GET",
    "/v1/registry/{kind}/export",
    lambda c: [
        Req("/v1/registry/enterprises/export", params={"format": "json"}),
        Req("/v1/registry/relations/export", params={"format": "json"}),
    ],
)
probe("GET", "/v1/banks", plain("/v1/banks"))
probe("GET", "/v1/chains", plain("/v1/chains"))
probe(
    "POST",
    "/v1/chains",
    once(
        lambda c: Req(
            "/v1/chains",
            json={
                "name": f"hostile {c.who.name}",
                "core_usccs": [c.victim_tenant.usccs["core"]],
                "industry_code": "C36",
                "region_code": "320500",
            },
        )
    ),
)
probe("GET", "/v1/chains/{chain_id}", on_foreign("chain"))
probe("GET", "/v1/chains/{chain_id}/members", on_foreign("chain"))
probe("POST", "/v1/chains/{chain_id}/recompute", on_foreign("chain"))
# documents
probe("POST", "/v1/documents", once(lambda c: Req("/v1/documents", json=_invoice(c))))
probe("POST", "/v1/documents/batch", once(lambda c: Req("/v1/documents/batch", json=[_invoice(c)])))
probe("GET", "/v1/enterprises/{enterprise_id}/documents", on_foreign("enterprise"))
probe("GET", "/v1/enterprises/{enterprise_id}/trade-cases", on_foreign("enterprise"))
probe("GET", "/v1/enterprises/{enterprise_id}/findings", on_foreign("enterprise"))
probe("POST", "/v1/documents/{document_id}/confirm", on_foreign("document"))
probe("GET", "/v1/documents/{document_id}", on_foreign("document"))
# receivables registry
probe(
    "POST",
    "/v1/receivables",
    lambda c: [
        Req(
            "/v1/receivables",
            json={"invoice_document_id": o.id, "kind": "pledge", "bank": _my_bank(c)},
            what=f"document {o.tenant}",
        )
        for o in c.foreign("document")
    ],
)
probe("GET", "/v1/receivables", plain("/v1/receivables", include_released=True))
probe("POST", "/v1/receivables/{registration_id}/release", on_foreign("registration"))
probe("GET", "/v1/receivables/filing", plain("/v1/receivables/filing"))
# consent
probe("GET", "/v1/consents", plain("/v1/consents"))
probe(
    "POST",
    "/v1/consents",
    once(
        lambda c: Req(
            "/v1/consents",
            json={
                "bank_code": c.victim_tenant.code,
                "categories": ["invoices"],
                "purposes": ["credit_assessment"],
                "expires_at": (TODAY + timedelta(days=60)).isoformat() + "T00:00:00+08:00",
            },
        )
    ),
)
probe("POST", "/v1/consents/{consent_id}/revoke", on_foreign("consent"))
probe("GET", "/v1/consents/access-log", plain("/v1/consents/access-log"))
# credentials
probe(
    "GET",
    "/v1/credentials/programmes",
    _narrowed(
        "/v1/credentials/programmes", core=lambda t: t.usccs["core"], funder=lambda t: t.code
    ),
)
probe(
    "POST",
    "/v1/credentials/programmes",
    once(
        lambda c: Req(
            "/v1/credentials/programmes",
            json={
                "core": c.victim_tenant.usccs["core"],
                "name": "hostile",
                "line": "1000000.00",
                "rating": "AAA",
            },
        )
    ),
)
probe("GET", "/v1/credentials/programmes/{programme_id}", on_foreign("programme"))
probe(
    "GET",
    "/v1/credentials/confirmations",
    _narrowed(
        "/v1/credentials/confirmations",
        debtor=lambda t: t.usccs["core"],
        creditor=lambda t: t.usccs["t1"],
    ),
)
probe(
    "POST",
    "/v1/credentials/confirmations",
    once(
        lambda c: Req(
            "/v1/credentials/confirmations",
            json={
                "supplier": c.victim_tenant.usccs["t1"],
                "amount": "1000.00",
                "due_on": LATER,
                "document_ids": [o.id for o in c.victim_tenant.of("document")[:1]],
            },
        )
    ),
)
probe(
    "GET",
    "/v1/credentials/pieces",
    _narrowed(
        "/v1/credentials/pieces",
        holder=lambda t: t.usccs["t2"],
        financed_by=lambda t: t.code,
    ),
)
probe("GET", "/v1/credentials/pieces/{piece_id}", on_foreign("piece"))
probe("POST", "/v1/credentials/pieces/{piece_id}/accept", on_foreign("piece"))
probe(
    "POST",
    "/v1/credentials/pieces/{piece_id}/reject",
    on_foreign("piece", lambda c, o: {"reason": "no"}),
)
probe(
    "POST",
    "/v1/credentials/pieces/{piece_id}/split",
    on_foreign("piece", lambda c, o: {"amounts": ["1000.00", "1000.00"]}),
)
probe(
    "POST",
    "/v1/credentials/pieces/{piece_id}/transfer",
    _own_piece(lambda c: {"to": c.victim_tenant.usccs["t2"], "amount": "1000.00"}, "transfer"),
)
probe(
    "POST",
    "/v1/credentials/pieces/{piece_id}/quote",
    _own_piece(lambda c: {"bank": c.victim_tenant.code}, "quote"),
)
probe("GET", "/v1/credentials/quotes/{quote_id}", on_foreign("quote"))
probe("POST", "/v1/credentials/quotes/{quote_id}/finance", on_foreign("quote"))
probe(
    "GET",
    "/v1/credentials",
    _narrowed(
        "/v1/credentials",
        core=lambda t: t.usccs["core"],
        holder=lambda t: t.usccs["t2"],
        funder=lambda t: t.code,
    ),
)
probe(
    "POST",
    "/v1/credentials",
    once(
        lambda c: Req(
            "/v1/credentials",
            json={
                "programme_id": c.victim_tenant.of("programme")[0].id,
                "confirmation_ids": [c.victim_tenant.of("confirmation")[0].id],
                "amount": "1000.00",
                "maturity_on": LATER,
            },
        )
    ),
)
probe("GET", "/v1/credentials/{credential_id}", on_foreign("credential"))
probe("GET", "/v1/credentials/{credential_id}/tree", on_foreign("credential"))
probe("GET", "/v1/credentials/{credential_id}/due", on_foreign("credential"))
probe("POST", "/v1/credentials/{credential_id}/cancel", on_foreign("credential"))
probe(
    "POST",
    "/v1/credentials/{credential_id}/settle",
    on_foreign("credential", lambda c, o: {"amount": "1.00", "payment_ref": f"P-{c.who.name}"}),
)
probe(
    "POST",
    "/v1/credentials/programmes/{programme_id}/invitations",
    on_foreign("programme", lambda c, o: {"bank": _my_bank(c)}),
)
probe("GET", "/v1/credentials/programmes/{programme_id}/invitations", on_foreign("programme"))
probe(
    "GET",
    "/v1/credentials/invitations",
    _narrowed("/v1/credentials/invitations", bank=lambda t: "BKC"),
)
probe(
    "GET",
    "/v1/credentials/programmes/{programme_id}/invitations/{invitation_id}",
    on_foreign("invitation"),
)
probe(
    "POST",
    "/v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/approve",
    on_foreign("invitation"),
)
probe(
    "POST",
    "/v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/accept",
    on_foreign("invitation", lambda c, o: {"line": "1000000.00"}),
)
probe(
    "POST",
    "/v1/credentials/programmes/{programme_id}/invitations/{invitation_id}/decline",
    on_foreign("invitation"),
)
# books
probe("GET", "/v1/books/{book}/trial-balance", _book("/v1/books/{book}/trial-balance"))
probe(
    "POST",
    "/v1/books/journals/{journal_id}/reverse",
    on_foreign("journal", lambda c, o: {"reason": "hostile"}),
)
probe(
    "GET",
    "/v1/books/{book}/accounts/{account}/statement",
    _book("/v1/books/{book}/accounts/{account}/statement"),
)
probe("GET", "/v1/books/{book}/general-ledger", _book("/v1/books/{book}/general-ledger"))
probe("GET", "/v1/rates/lpr", plain("/v1/rates/lpr"))
# lending
probe("GET", "/v1/credit-lines", plain("/v1/credit-lines"))
probe(
    "POST",
    "/v1/credit-lines",
    once(
        lambda c: Req(
            "/v1/credit-lines",
            json={
                "obligor": c.victim_tenant.usccs["core"],
                "limit": "1000000.00",
                "starts_on": ON,
                "expires_on": LATER,
            },
        )
    ),
)
probe("GET", "/v1/credit-lines/{line_id}", on_foreign("line"))
probe(
    "POST",
    "/v1/credit-lines/expire",
    once(lambda c: Req("/v1/credit-lines/expire", json={"as_of": ON})),
)
probe(
    "POST",
    "/v1/credit-lines/{line_id}/sublimits",
    on_foreign("line", lambda c, o: {"limit": "1000.00", "member": _my_uscc(c)}),
)
for _action in ("freeze", "unfreeze", "close"):
    probe(
        "POST",
        f"/v1/credit-lines/{{line_id}}/{_action}",
        on_foreign("line", lambda c, o: {"reason": "hostile"}),
    )
probe("GET", "/v1/exposure-caps", plain("/v1/exposure-caps"))
probe(
    "POST",
    "/v1/exposure-caps",
    once(
        lambda c: Req(
            "/v1/exposure-caps",
            json={
                "name": f"cap by {c.who.name}",
                "cap": "1000.00",
                "core": c.victim_tenant.usccs["core"],
            },
        )
    ),
)
probe(
    "POST",
    "/v1/loan-products",
    once(
        lambda c: Req(
            "/v1/loan-products",
            json={
                "code": f"P-{c.who.name}",
                "name": "own product",
                "config": {"kind": "inventory_pledge", "price_source": "SHFE"},
            },
        )
    ),
)
probe(
    "GET",
    "/v1/loan-products",
    lambda c: [
        Req("/v1/loan-products"),
        Req("/v1/loan-products", params={"bank": c.victim_tenant.code}),
    ],
)
probe(
    "POST",
    "/v1/approval-authorities",
    once(
        lambda c: Req(
            "/v1/approval-authorities",
            json={
                "user": c.victim_tenant.users[f"{c.victim_tenant.name.lower()}-approver"],
                "level": 3,
            },
        )
    ),
)
probe(
    "POST",
    "/v1/loan-applications",
    once(lambda c: Req("/v1/loan-applications", json=_application(c))),
)
probe("GET", "/v1/loan-applications", plain("/v1/loan-applications"))
probe("GET", "/v1/loan-applications/{application_id}", on_foreign("application"))
probe(
    "POST",
    "/v1/loan-applications/{application_id}/review",
    on_foreign("application", lambda c, o: {"action": "approve", "note": "hostile"}),
)
probe(
    "POST",
    "/v1/loan-applications/{application_id}/conditions/{n}/met",
    on_foreign("application", lambda c, o: {"note": "hostile"}),
)
probe("POST", "/v1/loan-applications/{application_id}/withdraw", on_foreign("application"))
probe("POST", "/v1/loan-applications/lapse", plain("/v1/loan-applications/lapse"))
probe("GET", "/v1/due-diligence-tasks", plain("/v1/due-diligence-tasks"))
probe("GET", "/v1/due-diligence-tasks/{task_id}", on_foreign("task"))
probe("POST", "/v1/due-diligence-tasks/{task_id}/site-visit", _task_of("site_visit"))
probe(
    "POST", "/v1/due-diligence-tasks/{task_id}/financial-analysis", _task_of("financial_analysis")
)
probe("POST", "/v1/disbursements", _disburse)
probe("GET", "/v1/disbursements/{file_id}", on_foreign("disbursement"))
probe("GET", "/v1/disbursements/{file_id}/pain001", on_foreign("disbursement"))
probe(
    "POST",
    "/v1/bank-statements",
    once(
        lambda c: Req(
            "/v1/bank-statements", content=CAMT.read_bytes(), content_type="application/xml"
        )
    ),
)
probe("GET", "/v1/bank-statements/{import_id}", on_foreign("statement"))
probe("GET", "/v1/loans", plain("/v1/loans"))
probe("POST", "/v1/loans/accrue", once(lambda c: Req("/v1/loans/accrue", json={"as_of": ON})))
probe("POST", "/v1/loans/scan", once(lambda c: Req("/v1/loans/scan", json={"as_of": ON})))
probe("GET", "/v1/loans/{loan_id}", on_foreign("loan"))
probe("GET", "/v1/loans/{loan_id}/repayments", on_foreign("loan"))
probe(
    "POST",
    "/v1/loans/{loan_id}/repayments",
    on_foreign("loan", lambda c, o: {"amount": "1.00", "value_on": LATER}),
)
probe(
    "POST",
    "/v1/loans/{loan_id}/prepayments",
    on_foreign("loan", lambda c, o: {"principal": "1.00", "on": LATER}),
)
probe(
    "POST",
    "/v1/loans/{loan_id}/extension",
    on_foreign("loan", lambda c, o: {"months": 1, "on": LATER}),
)
probe(
    "POST",
    "/v1/loans/{loan_id}/goods-releases",
    on_foreign("loan", lambda c, o: {"value": "1.00", "note": "hostile"}),
)
probe("POST", "/v1/loans/{loan_id}/buy-back", on_foreign("loan", lambda c, o: {"on": LATER}))
probe(
    "POST",
    "/v1/commodity-prices",
    lambda c: [
        Req(
            "/v1/commodity-prices",
            json={"item": "copper foil", "on": ON, "price": "1.00", "unit": "t"},
            what="own price",
        ),
        Req(
            "/v1/commodity-prices",
            json={
                "item": "copper foil",
                "on": ON,
                "price": "2.00",
                "unit": "t",
                "platform_source": "SHFE",
            },
            what="platform price",
        ),
    ],
)
probe(
    "GET",
    "/v1/commodity-prices",
    lambda c: [
        Req("/v1/commodity-prices"),
        Req("/v1/commodity-prices", params={"platform_source": "SHFE"}),
    ],
)
probe("GET", "/v1/price-sources", plain("/v1/price-sources"))
probe(
    "POST",
    "/v1/price-sources",
    once(
        lambda c: Req(
            "/v1/price-sources", json={"code": f"SRC{abs(hash(c.who.name)) % 1000}", "name": "x"}
        )
    ),
)
# risk
probe("GET", "/v1/portfolio/exposure", plain("/v1/portfolio/exposure", by="core"))
probe(
    "GET",
    "/v1/risk/contagion",
    once(lambda c: Req("/v1/risk/contagion", params={"core": c.victim_tenant.usccs["core"]})),
)
probe("GET", "/v1/portfolio/sectors", plain("/v1/portfolio/sectors"))
probe("GET", "/v1/alerts", plain("/v1/alerts"))
probe(
    "POST", "/v1/alerts/{alert_id}/acknowledge", on_foreign("alert", lambda c, o: {"note": "mine"})
)
probe("POST", "/v1/alerts/{alert_id}/resolve", on_foreign("alert", lambda c, o: {"note": "gone"}))
probe("POST", "/v1/alerts/escalate", once(lambda c: Req("/v1/alerts/escalate", json={})))
probe(
    "POST",
    "/v1/early-warning/scan",
    once(lambda c: Req("/v1/early-warning/scan", json={"as_of": ON})),
)
probe(
    "POST",
    "/v1/risk/models",
    once(
        lambda c: Req(
            "/v1/risk/models",
            json={"name": c.victim_tenant.model_name, "target": "default", "rows": ROWS},
        )
    ),
)
probe("GET", "/v1/risk/models", plain("/v1/risk/models"))
probe("GET", "/v1/risk/models/{model_id}", on_foreign("model"))
probe("POST", "/v1/risk/models/{model_id}/promote", on_foreign("model"))
probe("POST", "/v1/risk/models/{name}/score", _model_by_name)
probe(
    "POST",
    "/v1/risk/models/{model_id}/monitoring",
    on_foreign("model", lambda c, o: {"rows": ROWS[:50], "as_of": ON}),
)
probe("GET", "/v1/risk/models/{model_id}/monitoring", on_foreign("model"))
# IoT
probe(
    "POST",
    "/v1/iot/devices",
    once(lambda c: Req("/v1/iot/devices", json={"serial": f"DEV-{c.who.name}", "kind": "gps"})),
)
probe("GET", "/v1/iot/devices", plain("/v1/iot/devices"))
probe("GET", "/v1/iot/devices/{ref}", _device_by_serial)
probe("POST", "/v1/iot/devices/{ref}/bind", _bind_own_device_to_foreign_loan)
probe("POST", "/v1/iot/devices/{ref}/retire", on_foreign("device", lambda c, o: {"reason": "x"}))
probe("GET", "/v1/iot/devices/{ref}/readings", on_foreign("device"))
probe("GET", "/v1/iot/dead-letters", plain("/v1/iot/dead-letters"))
probe(
    "POST",
    "/v1/iot/telemetry",
    once(
        lambda c: Req(
            "/v1/iot/telemetry",
            json={
                "serial": f"SCALE-{c.victim_tenant.name}-1",
                "seq": 1,
                "at": ON + "T10:00:00+08:00",
                "value": "1",
                "unit": "t",
            },
        )
    ),
)
# ledger
probe("GET", "/v1/ledger/checkpoint", plain("/v1/ledger/checkpoint"))
probe("GET", "/v1/ledger/checkpoints/{tree_size}", plain("/v1/ledger/checkpoints/1"))
probe("GET", "/v1/ledger/keys", plain("/v1/ledger/keys"))
probe("GET", "/v1/ledger/consistency", plain("/v1/ledger/consistency", first=1, second=2))
probe("GET", "/v1/ledger/entries/{index}", _entries("/v1/ledger/entries/{index}"))
probe(
    "GET", "/v1/ledger/entries/{index}/inclusion", _entries("/v1/ledger/entries/{index}/inclusion")
)
probe("GET", "/v1/ledger/receipts/{entry_id}", _entries("/v1/ledger/receipts/{entry_id}"))
probe("GET", "/v1/ledger/witnesses", plain("/v1/ledger/witnesses"))
probe(
    "POST",
    "/v1/ledger/witnesses",
    once(
        lambda c: Req(
            "/v1/ledger/witnesses",
            json={
                "vkey": NoteSigner.generate(f"w.{c.who.name}", KeyKind.COSIGNATURE_V1)
                .verifier()
                .vkey()
            },
        )
    ),
)
probe("POST", "/v1/ledger/checkpoints/{tree_size}/cosignatures", _cosign)
# reference data
probe("GET", "/v1/reference/regions/{code}", plain("/v1/reference/regions/320505"))
probe("GET", "/v1/reference/industries", plain("/v1/reference/industries"))
probe("GET", "/v1/reference/industries/{code}", plain("/v1/reference/industries/C36"))
probe("GET", "/v1/reference/uscc/{code}", plain("/v1/reference/uscc/91320505MA1MXXXXXX"))
probe("GET", "/problems", plain("/problems"))
probe("GET", "/problems/{code}", plain("/problems/line_frozen"))
# regional chain strategy: each bank reads only its own market data (no record in the path)
STRATEGY = "/v1/strategy/regions/yrd"


def _strategy_import(ctx: Ctx) -> list[Req]:
    """The market data of strategy_csv, uploaded as multipart (one part per file)."""
    boundary = "tenancy-matrix-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in market_files().items()
    ]
    label = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="label"\r\n\r\n{ctx.who.name}\r\n'
    )
    body = b"".join(parts) + label.encode() + f"--{boundary}--\r\n".encode()
    ctype = f"multipart/form-data; boundary={boundary}"
    return [Req("/v1/strategy/datasets", content=body, content_type=ctype)]


probe("GET", "/v1/strategy/regions", plain("/v1/strategy/regions"))
probe("GET", "/v1/strategy/datasets", plain("/v1/strategy/datasets"))
probe("POST", "/v1/strategy/datasets", _strategy_import)
probe("GET", "/v1/strategy/regions/{region}/chains", plain(f"{STRATEGY}/chains"))
probe("GET", "/v1/strategy/regions/{region}/chains/{chain_key}", plain(f"{STRATEGY}/chains/sz-nev"))
probe(
    "GET",
    "/v1/strategy/regions/{region}/chains/{chain_key}/leads",
    plain(f"{STRATEGY}/chains/sz-nev/leads"),
)
probe("GET", "/v1/strategy/regions/{region}/measures", plain(f"{STRATEGY}/measures"))
probe("GET", "/v1/strategy/regions/{region}/ranking", plain(f"{STRATEGY}/ranking", draws=10))
probe(
    "POST",
    "/v1/strategy/regions/{region}/ranking",
    once(lambda c: Req(f"{STRATEGY}/ranking", json={"draws": 10})),
)
probe("GET", "/v1/strategy/regions/{region}/report.pdf", plain(f"{STRATEGY}/report.pdf"))


# ------------------------------------------------------------------------------ allowed


@dataclass(frozen=True)
class Allowed:
    reason: str
    who: Callable[[Who], bool] = lambda w: True
    leak_check: bool = True


ANYONE = lambda w: True  # noqa: E731
BANKS = lambda w: w.is_bank  # noqa: E731
ENTERPRISES = lambda w: w.member is not None or w.name == "x"  # noqa: E731
TENANTS = lambda w: w.kind != "operator"  # noqa: E731

# Operations that may answer 2xx to these principals although the probe names another
# tenant, or that name no tenant's record at all: each with the reason. Their answers are
# still searched for foreign ids and secrets (``leak_check``).
ALLOWED: dict[tuple[str, str], Allowed] = {
    ("GET", "/healthz"): Allowed("liveness: no principal, no data"),
    ("GET", "/readyz"): Allowed("readiness: no principal, no data"),
    ("POST", "/oauth/revoke"): Allowed("RFC 7009 answers 200 whatever the token"),
    ("GET", "/oauth/jwks"): Allowed("the token signing keys are public"),
    ("GET", "/v1/me"): Allowed("the caller's own identity"),
    ("GET", "/v1/banks"): Allowed("the banks on the platform are public reference data"),
    ("GET", "/v1/rates/lpr"): Allowed("the LPR table is public reference data"),
    ("GET", "/v1/price-sources"): Allowed("the platform's price sources are reference data"),
    ("GET", "/v1/reference/regions/{code}"): Allowed("GB/T 2260 reference data"),
    ("GET", "/v1/reference/industries"): Allowed("GB/T 4754 reference data"),
    ("GET", "/v1/reference/industries/{code}"): Allowed("GB/T 4754 reference data"),
    ("GET", "/v1/reference/uscc/{code}"): Allowed("USCC check digits: reference"),
    ("GET", "/problems"): Allowed("the error-code reference is public documentation"),
    ("GET", "/problems/{code}"): Allowed("the error-code reference is public documentation"),
    ("GET", "/v1/ledger/checkpoint"): Allowed("the log's public face: signed checkpoints"),
    ("GET", "/v1/ledger/checkpoints/{tree_size}"): Allowed("signed checkpoints are public"),
    ("GET", "/v1/ledger/keys"): Allowed("verifier keys are public"),
    ("GET", "/v1/ledger/consistency"): Allowed("consistency proofs carry only hashes"),
    ("GET", "/v1/ledger/witnesses"): Allowed("witnesses' public keys are public"),
    ("GET", "/v1/ledger/entries/{index}"): Allowed(
        "a platform auditor reads every entry", lambda w: w.name == "pa", leak_check=False
    ),
    ("GET", "/v1/ledger/entries/{index}/inclusion"): Allowed(
        "a platform auditor reads every entry's inclusion proof",
        lambda w: w.name == "pa",
        leak_check=False,
    ),
    ("GET", "/v1/ledger/receipts/{entry_id}"): Allowed(
        "a platform auditor reads every entry's receipt", lambda w: w.name == "pa"
    ),
    ("POST", "/v1/ledger/witnesses"): Allowed(
        "registers the caller's own cosigning key (admins and auditors)"
    ),
    ("POST", "/v1/consents"): Allowed(
        "an enterprise grants its own data to any bank: its own act", ENTERPRISES
    ),
    ("POST", "/v1/loan-applications"): Allowed(
        "an enterprise applies to any bank; a foreign underlying is 'not found' like a "
        "missing one and the application is declined",
        ENTERPRISES,
    ),
    ("GET", "/v1/loan-products"): Allowed(
        "a bank's product catalogue is offered to applicants (decision thresholds and the "
        "authority ladder withheld); staff see their own bank's"
    ),
    ("POST", "/v1/commodity-prices"): Allowed(
        "a bank records its own price; the platform operator a platform source's"
    ),
    ("GET", "/v1/commodity-prices"): Allowed("a bank's own prices and platform sources'"),
    ("POST", "/v1/price-sources"): Allowed(
        "the platform operator names platform price sources", lambda w: w.name == "op"
    ),
    ("GET", "/v1/receivables"): Allowed(
        "the registry is searched before financing: other banks' registrations in their "
        "public part only (docs/security.md)"
    ),
    ("GET", "/v1/receivables/filing"): Allowed(
        "own filings in full, other banks' public registry fields only"
    ),
    # listed only to run with the jobs, last: a disbursement naming a foreign loan never passes
    ("POST", "/v1/disbursements"): Allowed("never with a foreign loan", lambda w: False),
    # Lists and tenant-wide jobs: the caller's own records only (checked for leaks).
    **{
        ("GET", p): Allowed("a list of the caller's own records")
        for p in (
            "/v1/enterprises",
            "/v1/relations",
            "/v1/registry/{kind}/export",
            "/v1/chains",
            "/v1/consents",
            "/v1/consents/access-log",
            "/v1/credentials/programmes",
            "/v1/credentials/confirmations",
            "/v1/credentials/pieces",
            "/v1/credentials",
            "/v1/credentials/invitations",
            "/v1/credit-lines",
            "/v1/exposure-caps",
            "/v1/loan-applications",
            "/v1/due-diligence-tasks",
            "/v1/loans",
            "/v1/alerts",
            "/v1/risk/models",
            "/v1/iot/devices",
            "/v1/iot/dead-letters",
            "/v1/portfolio/exposure",
            "/v1/portfolio/sectors",
        )
    },
    **{
        ("POST", p): Allowed("runs over the caller's own bank's records only", BANKS)
        for p in (
            "/v1/credit-lines/expire",
            "/v1/loan-applications/lapse",
            "/v1/loans/accrue",
            "/v1/loans/scan",
            "/v1/alerts/escalate",
            "/v1/early-warning/scan",
            "/v1/bank-statements",
            "/v1/loan-products",
            "/v1/iot/devices",
            "/v1/risk/models",
        )
    },
    ("GET", "/v1/risk/contagion"): Allowed(
        "the caller's own expected loss if a core fails; no other tenant's records", BANKS
    ),
    ("GET", "/v1/strategy/regions"): Allowed("the named regions are reference data"),
    **{
        (m, f"/v1/strategy{p}"): Allowed("the caller's own bank's market data only", BANKS)
        for m, p in (
            ("GET", "/datasets"),
            ("POST", "/datasets"),
            ("GET", "/regions/{region}/chains"),
            ("GET", "/regions/{region}/chains/{chain_key}"),
            ("GET", "/regions/{region}/chains/{chain_key}/leads"),
            ("GET", "/regions/{region}/measures"),
            ("GET", "/regions/{region}/ranking"),
            ("POST", "/regions/{region}/ranking"),
            ("GET", "/regions/{region}/report.pdf"),
        )
    },
}


# ------------------------------------------------------------------------------ the run


@dataclass
class Outcome:
    attempts: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    holes: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    allowed: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # 409, 422: refused, but not for tenancy


def _headers(client: TestClient, world: TenancyWorld, who: Who) -> dict[str, str]:
    if who.client is not None:
        cid, secret = world.clients[who.client]
        data = {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    else:
        data = {"grant_type": "password", "username": who.name, "password": PASSWORD}
    r = client.post("/oauth/token", data=data)
    assert r.status_code == 200, (who.name, r.text)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]


def _markers(ctx: Ctx, path: str) -> dict[str, str]:
    """Text that must not appear in an answer to ``ctx.who``: ids of foreign records (and,
    for registry reads, foreign enterprises' ids) and foreign secrets."""
    out = {}
    # where enterprises are listed, another tenant's (not a counterparty's) must not be
    registry = path.startswith(
        ("/v1/enterprises", "/v1/relations", "/v1/registry", "/v1/chains", "/v1/risk/contagion")
    )
    for o in ctx.all_foreign():
        if o.tenant == ctx.who.home and ctx.who.member in o.extra.get("referenced_by", "").split():
            continue  # a reference on a record it is a party to (its credential's programme)
        if o.kind in PRIVATE or (registry and o.kind == "enterprise"):
            out[o.id] = f"{o.kind} of {o.tenant}"
        if registry and o.kind == "enterprise":
            out[f'"{o.extra["name"]}"'] = f"the name of {o.kind} of {o.tenant}"
    return out


def _order(ops: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Reads first, then writes on foreign records, then the tenant-wide jobs (which change
    the caller's own records and must not hide a hole by changing state first)."""
    jobs = {p for (m, p), a in ALLOWED.items() if m == "POST"}

    def rank(op: tuple[str, str]) -> int:
        method, path = op
        return 0 if method == "GET" else 2 if path in jobs else 1

    return sorted(ops, key=rank)


def controls(client: TestClient, world: TenancyWorld) -> tuple[int, list[str]]:
    """The positive control: every read probe bank A's staff make of bank B's records, made
    by bank B's own staff, answers 2xx — so a probe that reaches the wrong route, or a
    record nobody can read, cannot pass for tenancy."""
    owner = Who("b-rm", "B", "staff")
    headers = _headers(client, world, owner)
    tried, failed = 0, []
    for method, path in _operations(client):
        if method != "GET" or "{" not in path or (method, path) in ALLOWED:
            continue
        for req in PROBES[(method, path)](Ctx(Who("a-rm", "A", "staff"), world)):
            if req.what and not req.what.endswith(" B"):
                continue
            r = client.get(req.path, headers=headers, params=req.params or None)
            tried += 1
            if not 200 <= r.status_code < 300:
                failed.append(
                    f"owner b-rm: GET {req.path} ({path}) → {r.status_code}: {r.text[:200]}"
                )
    return tried, failed


def run_matrix(client: TestClient, world: TenancyWorld) -> Outcome:
    out = Outcome()
    headers = {who.name: _headers(client, world, who) for who in WHO}
    for method, path in _order(_operations(client)):
        make = PROBES[(method, path)]
        allowed = ALLOWED.get((method, path))
        for who in WHO:
            ctx = Ctx(who, world)
            reqs = make(ctx)
            if not reqs:
                out.skipped.append(f"{method} {path} {who.name}")
                continue
            for req in reqs:
                h = dict(headers[who.name])
                if req.content_type:
                    h["content-type"] = req.content_type
                r = client.request(
                    method,
                    req.path,
                    headers=h,
                    json=req.json,
                    content=req.content,
                    params=req.params or None,
                )
                out.attempts += 1
                out.by_status[r.status_code] += 1
                where = f"{who.name}: {method} {req.path} ({req.what or path}) → {r.status_code}"
                if r.status_code >= 500:
                    out.holes.append(f"server error {where}: {r.text[:200]}")
                    continue
                if not 200 <= r.status_code < 300:
                    if r.status_code not in (401, 403, 404):
                        out.other.append(f"{where}: {r.text[:160]}")
                    continue
                if allowed is None or not allowed.who(who):
                    out.holes.append(f"{where}: {r.text[:300]}")
                    continue
                out.allowed[f"{method} {path}"] += 1
                if allowed.leak_check:
                    text = r.text
                    asked = json.dumps([req.path, req.json, req.params], ensure_ascii=False)
                    for marker, what in _markers(ctx, req.path).items():
                        if marker in text and marker not in asked:  # not an echo of the ask
                            out.leaks.append(f"{where} shows {what} {marker}")
    return out


def _foreign_writes(
    factory: sessionmaker[Session], world: TenancyWorld, before: set[str]
) -> list[str]:
    """Ledger entries written during the run that touch a record foreign to their actor."""
    subjects: dict[str, Who] = {}
    for who in WHO:
        if who.client is not None:
            subjects[world.clients[who.client][0]] = who
        else:
            subjects[world.users[who.name]] = who
    found = []
    with factory() as s:
        for entry in s.scalars(select(LedgerEntry).where(LedgerEntry.id.not_in(before))):
            payload = json.loads(entry.payload)
            who = subjects.get(payload["actor"].split(":", 1)[1])
            if who is None:
                continue
            foreign = {o.id for o in Ctx(who, world).all_foreign() if o.kind != "secret"}
            for rec in payload["records"]:
                key = str(rec["id"])
                if any(part in foreign for part in key.split("/")):
                    found.append(f"{who.name}: {entry.event_type} wrote {rec['kind']} {key}")
    return found


@pytest.fixture
def tenancy(session_factory: sessionmaker[Session]) -> TenancyWorld:
    return build(session_factory)


def test_every_operation_is_probed(client: TestClient) -> None:
    """A new operation fails here until it has a probe (and, if it may answer 2xx across
    tenants, an entry in ALLOWED with its reason)."""
    ops = set(_operations(client))
    assert ops - set(PROBES) == set(), "operations without a tenancy probe"
    assert set(PROBES) - ops == set(), "probes of operations that no longer exist"
    assert set(ALLOWED) <= ops


def test_no_principal_reaches_another_tenants_records(
    client: TestClient,
    tenancy: TenancyWorld,
    session_factory: sessionmaker[Session],
    record_property: Callable[[str, object], None],
) -> None:
    with session_factory() as s:
        before = set(s.scalars(select(LedgerEntry.id)))
    control_reads, control_failures = controls(client, tenancy)
    outcome = run_matrix(client, tenancy)
    ops = _operations(client)
    figures = {
        "operations": len(ops),
        "principals": len(WHO),
        "attempts": outcome.attempts,
        "statuses": dict(sorted(outcome.by_status.items())),
        "allowed_operations": len([k for k in ALLOWED if k in set(ops)]),
        "allowed_2xx": sum(outcome.allowed.values()),
        "not_applicable": len(outcome.skipped),
        "owner_controls": control_reads,
    }
    sys.stdout.write(f"\ntenancy matrix: {json.dumps(figures)}\n")  # shown with -s
    report = os.environ.get("CHAINFIN_TENANCY_REPORT")
    if report:  # every refusal that was not 401/403/404, and what was allowed, for review
        Path(report).write_text(
            json.dumps(
                {"figures": figures, "other": outcome.other, "allowed": outcome.allowed},
                ensure_ascii=False,
                indent=1,
            )
        )
    for name, value in figures.items():
        record_property(name, value)
    writes = _foreign_writes(session_factory, tenancy, before)
    problems = control_failures + outcome.holes + outcome.leaks + writes
    assert problems == [], f"{len(problems)} problems {figures}:\n" + "\n".join(problems)
    # every operation was tried by every principal, but signing in (every login above) and
    # the task kinds a principal's own bank holds
    assert outcome.attempts + len(outcome.skipped) >= len(ops) * len(WHO)
    assert len(outcome.skipped) <= 2 * len(WHO)
