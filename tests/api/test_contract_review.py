"""The list contract from an integrator's and an attacker's side: a filter narrows what the
caller may already see and never tells whether something it may not see exists; a range
that ends before it starts is a 422 naming the field, on every list and export; a cursor
is refused unless it could be one the API issued; a day range is a business day in Beijing;
an illegal move of a state names its machine."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from apiworld import World, login
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import FixedClock, at_local
from chainfin.domain.uscc import make_uscc
from chainfin.services import alerts, registry
from tenancy_world import PASSWORD, TenancyWorld, build
from worldclock import WORLD_DAY

# A well-formed USCC and an enterprise id that no enterprise on the platform has.
UNREGISTERED_USCC = make_uscc("9", "1", "320509", "00009999")
UNREGISTERED_ID = "ent_01ZZZZZZZZZZZZZZZZZZZZZZZZ"


def _answer(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    r = client.get(path, params=params, headers=headers)
    return r.status_code, r.json()


# ------------------------------------------------------------------ no existence oracle


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/credentials", "holder"),
        ("/v1/credentials", "core"),
        ("/v1/credentials/pieces", "holder"),
        ("/v1/credentials/programmes", "core"),
        ("/v1/credentials/confirmations", "debtor"),
        ("/v1/credentials/confirmations", "creditor"),
    ],
)
@pytest.mark.parametrize("by", ["uscc", "id"])
def test_a_counterparty_filter_does_not_tell_whether_another_tenants_firm_exists(
    client: TestClient, world: World, path: str, param: str, by: str
) -> None:
    """core B may not see s1 (bank A's customer) in the registry; naming s1 in a filter must
    answer exactly as naming a firm that is not registered at all."""
    outsider = login(client, "coreB")
    hidden = client.get(f"/v1/enterprises/{world.ids['s1']}", headers=outsider)
    assert hidden.status_code == 404  # the registry does not tell core B that s1 exists
    foreign = world.usccs["s1"] if by == "uscc" else world.ids["s1"]
    unknown = UNREGISTERED_USCC if by == "uscc" else UNREGISTERED_ID
    seen = _answer(client, path, outsider, **{param: foreign})
    assert seen == (200, {"items": [], "next_cursor": None})
    assert _answer(client, path, outsider, **{param: unknown}) == seen


def test_a_malformed_counterparty_is_still_refused_by_name(
    client: TestClient, world: World
) -> None:
    r = client.get(
        "/v1/credentials", params={"holder": "not a uscc"}, headers=login(client, "coreB")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "holder"


# ------------------------------------------------------------------ reversed ranges


@pytest.fixture
def tenancy(session_factory: sessionmaker[Session]) -> TenancyWorld:
    return build(session_factory)


def _pairs(names: set[str]) -> list[tuple[str, str]]:
    """The (start, end) query parameters of a range, by their names."""
    out = [("since", "until")] if {"since", "until"} <= names else []
    for name in sorted(names):
        if name.endswith("_from") and f"{name[:-5]}_to" in names:
            out.append((name, f"{name[:-5]}_to"))
    return out


def _own_path(template: str, world: TenancyWorld) -> str | None:
    """``template`` with tenant A's records in its path (None if it needs another kind)."""
    a = world.tenants["A"]
    kinds = {"model_id": "model", "ref": "device", "loan_id": "loan"}
    values = {"book": a.code, "account": "6011", "enterprise_id": a.ids["t1"]}
    path = template
    for name in re.findall(r"{(\w+)}", template):
        if name in values:
            path = path.replace("{" + name + "}", values[name])
        elif name in kinds and a.of(kinds[name]):
            path = path.replace("{" + name + "}", a.of(kinds[name])[0].id)
        else:
            return None
    return path


def _reader(client: TestClient, path: str, params: dict[str, str]) -> dict[str, str] | None:
    """The headers of one of tenant A's people who may read ``path``."""
    for who in ("a-auditor", "a-rm", "a-risk", "a-admin", "a-t1"):
        r = client.post(
            "/oauth/token", data={"grant_type": "password", "username": who, "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        if client.get(path, params=params, headers=headers).status_code == 200:
            return headers
    return None


def _ends(start: str, end: str, schema: str) -> dict[str, str]:
    if "date-time" in schema:
        return {start: "2026-06-01T00:00:00+08:00", end: "2026-05-01T00:00:00+08:00"}
    return {start: "2026-06-01", end: "2026-05-01"}


def test_every_range_that_ends_before_it_starts_is_a_422_naming_the_field(
    client: TestClient, tenancy: TenancyWorld
) -> None:
    spec = client.get("/openapi.json").json()
    tried, wrong = [], []
    for template, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        query = {p["name"]: p for p in get.get("parameters", []) if p["in"] == "query"}
        path = _own_path(template, tenancy)
        if path is None:
            continue
        for start, end in _pairs(set(query)):
            extra = {"core": tenancy.tenants["A"].usccs["core"]} if "contagion" in path else {}
            headers = _reader(client, path, extra)
            assert headers is not None, f"nobody of tenant A reads {path}"
            schema = str(query[start]["schema"])
            r = client.get(path, params={**extra, **_ends(start, end, schema)}, headers=headers)
            tried.append(f"{template} {start}..{end}")
            problem = r.json() if r.status_code == 422 else {}
            fields = {e["field"] for e in problem.get("errors", [])}
            if problem.get("code") != "period_invalid" or not {start, end} & fields:
                wrong.append(f"{template} {start}..{end}: {r.status_code} {r.text[:120]}")
    assert len(tried) >= 15, tried  # the lists, the exports and the account statement
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------ filters that narrow


def test_bank_staff_naming_another_bank_see_none_of_its_products(
    client: TestClient, tenancy: TenancyWorld
) -> None:
    """Staff list their own bank's products; ``?bank=`` another bank narrows that to nothing
    instead of being ignored."""
    a, b = tenancy.tenants["A"], tenancy.tenants["B"]
    rm = _reader(client, "/v1/loan-products", {})
    assert rm is not None
    own = client.get("/v1/loan-products", params={"bank": a.code}, headers=rm).json()
    assert own["items"]
    assert {p["bank_id"] for p in own["items"]} == {a.bank_id}
    other = client.get("/v1/loan-products", params={"bank": b.code}, headers=rm)
    assert other.status_code == 200
    assert other.json() == {"items": [], "next_cursor": None}


# ------------------------------------------------------------------ cursors


@pytest.mark.parametrize("raw", ["\x00", "ent_\x00x", "a\nb", "\u202e1"])
def test_a_cursor_that_decodes_to_control_characters_is_refused(
    client: TestClient, world: World, raw: str
) -> None:
    """The API issues cursors of ids, codes and names; one carrying a control character is
    not one of them (PostgreSQL cannot even compare a NUL)."""
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    r = client.get("/v1/banks", params={"cursor": cursor}, headers=login(client, "a-rm"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "cursor_invalid"


# ------------------------------------------------------------------ business days


@pytest.fixture
def small_hours_world(
    world_clock: FixedClock, session_factory: sessionmaker[Session]
) -> TenancyWorld:
    """The tenancy world, built at 02:00 in Beijing: still the day before in UTC."""
    world_clock.set(at_local(WORLD_DAY, 2))
    return build(session_factory)


def test_a_day_range_on_submission_is_the_business_day_in_beijing(
    client: TestClient, small_hours_world: TenancyWorld
) -> None:
    """Business dates are China Standard Time (docs/api.md): an application submitted at
    02:00 in Beijing was submitted on that business day, though UTC still says the day before."""
    day = WORLD_DAY.isoformat()
    rm = _reader(client, "/v1/loan-applications", {})
    assert rm is not None
    everything = client.get("/v1/loan-applications", headers=rm).json()["items"]
    assert everything
    on_the_day = client.get(
        "/v1/loan-applications", params={"submitted_from": day, "submitted_to": day}, headers=rm
    )
    assert on_the_day.json()["items"] == everything


# ------------------------------------------------------------------ illegal transitions


def test_an_alert_moved_twice_is_an_illegal_transition_naming_its_machine(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """docs/api.md: an action the state does not allow is a 409 ``illegal_transition`` whose
    problem names the machine, the current state, the event and the events allowed."""
    with transaction(session_factory) as s:
        row = alerts.raise_alert(
            s,
            SYSTEM,
            kind="test_review",
            severity="high",
            subject_kind="enterprise",
            subject_id=world.ids["s1"],
            bank_id=registry.bank_by_code(s, "BKA").id,
            enterprise_id=world.ids["s1"],
            message="look at s1",
        )
        assert row is not None
        alert_id = row.id
    rm = login(client, "a-rm")
    ack = f"/v1/alerts/{alert_id}/acknowledge"
    assert client.post(ack, json={"note": "on it"}, headers=rm).status_code == 200
    again = client.post(ack, json={"note": "on it"}, headers=rm)
    assert again.status_code == 409
    problem = again.json()
    assert problem["code"] == "illegal_transition"
    assert (problem["machine"], problem["current"], problem["event"], problem["allowed"]) == (
        "alert",
        "acknowledged",
        "acknowledge",
        ["resolve"],
    )
    done = f"/v1/alerts/{alert_id}/resolve"
    assert client.post(done, json={"note": "paid"}, headers=rm).status_code == 200
    twice = client.post(done, json={"note": "paid"}, headers=rm).json()
    assert (twice["code"], twice["current"], twice["event"], twice["allowed"]) == (
        "illegal_transition",
        "resolved",
        "resolve",
        [],
    )
