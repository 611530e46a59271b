"""IoT through the services: devices on an inventory-pledge loan and on a shipment; a
falling weight moves the loan-to-value past the margin-call level (one alert); duplicates,
out-of-order, late and malformed messages are counted and not applied; a tracker off its
route and a warm probe raise alerts; the log still verifies at the end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_lending_servicing import BANK_ACCOUNT, START, referred_inventory, site_visit

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import Alert, IotDeadLetter, IotDevice, IotReading, Loan
from chainfin.app import create_app
from chainfin.config import Settings
from chainfin.domain.clock import utcnow
from chainfin.domain.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from chainfin.domain.iot import Outcome
from chainfin.services import documents, iot, ledger, ledger_verify
from chainfin.services.lending import applications, loans, tasks
from credit_world import uscc
from lending_world import TODAY, LendingWorld, build_lending
from testkeys import TEST_DATA_KEYS

ORIGIN = "chainfin.test/ledger"
PASSWORD = "correct horse battery"
ROUTE = [[31.2989, 120.5853], [31.2304, 121.4737]]  # Suzhou to Shanghai, about 84 km


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> Iterator[LendingWorld]:
    """The lending world; after each test the log must still agree with the database."""
    yield build_lending(session_factory)
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
    assert report.ok, report.findings[:5]


def pledge_loan(s: Session, world: LendingWorld) -> Loan:
    """1,100,000.00 against 20 t of copper foil at 80,000.00: LTV 68.75 %, margin call
    above 80 %."""
    rm, ck3 = world.staff("rm"), world.staff("ck3")
    app = referred_inventory(s, world)
    applications.review(s, rm, app.id, action="approve", note="ok")
    (task,) = tasks.tasks(s, rm, state="open").items
    tasks.complete_site_visit(s, rm, task.id, site_visit())
    applications.review(s, ck3, app.id, action="approve", note="ok")
    loans.disburse(s, rm, execution_on=START, **BANK_ACCOUNT)
    return s.scalars(select(Loan).where(Loan.application_id == app.id)).one()


def scale(s: Session, world: LendingWorld, loan: Loan, serial: str = "WS-1") -> str:
    device, token = iot.register(s, world.staff("rm"), serial=serial, kind="weight", unit="t")
    iot.bind_pledge(s, world.staff("rm"), device.id, loan_id=loan.id, item="copper foil")
    return token


def msg(serial: str, seq: int, at: datetime, kind: str = "weight", **fields: Any) -> bytes:
    body = {"device": serial, "seq": seq, "at": at.isoformat(), "kind": kind, **fields}
    return json.dumps(body).encode()


def weight(seq: int, at: datetime, tonnes: str, serial: str = "WS-1") -> bytes:
    return msg(serial, seq, at, value=tonnes, unit="t")


def alerts_of(s: Session, kind: str) -> list[Alert]:
    return list(s.scalars(select(Alert).where(Alert.kind == kind)))


def items(loan: Loan) -> dict[str, Any]:
    (item,) = loan.collateral["items"]
    return dict(item)


def test_a_falling_weight_raises_exactly_one_margin_call(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(session_factory) as s:
        loan = pledge_loan(s, world)
        scale(s, world, loan)
    readings = [
        (1, "20", Outcome.APPLIED),  # 68.75 %
        (2, "18", Outcome.APPLIED),  # 76.39 %
        (3, "13", Outcome.APPLIED),  # 105.77 %: margin call
        (4, "12", Outcome.APPLIED),  # still above: the same alert
    ]
    for seq, tonnes, expected in readings:
        with transaction(session_factory) as s:
            at = now - timedelta(minutes=10 - seq)
            result = iot.receive(s, weight(seq, at, tonnes), source="mqtt", received_at=now)
            assert result.outcome is expected, result
            assert bool(result.alerts) == (seq == 3)
    with session_factory() as s:
        (alert,) = alerts_of(s, "margin_call")
        assert alert.subject_id == loan.id
        assert "105.77%" in alert.message  # 1,100,000 / (13 t × 80,000)
        loan = s.get_one(Loan, loan.id)
        item = items(loan)
        assert (item["quantity"], item["pledged_quantity"]) == ("12", "20")
        assert item["observed"]["device"] == "WS-1"
        assert loan.collateral["value_minor"] == 12 * 80_000_00
        assert loan.collateral["ltv"] == "1.1458"
        device = s.scalars(select(IotDevice)).one()
        assert (device.last_seq, device.last_value["value"]) == (4, "12")  # type: ignore[index]
        # the daily scan agrees and does not raise a second margin call
        assert loans.scan(s, world.staff("rm"), TODAY + timedelta(days=6))["margin_calls"] == 0


def test_duplicates_out_of_order_late_and_malformed_are_counted_and_not_applied(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(session_factory) as s:
        loan = pledge_loan(s, world)
        token = scale(s, world, loan)
        iot.register(s, world.staff("rm"), serial="WS-2", kind="weight", unit="kg")
    t = [now - timedelta(minutes=m) for m in (9, 8, 7, 6)]
    batch = [
        {"device": "WS-1", "seq": 1, "at": t[0].isoformat(), "kind": "weight", "value": "20"}
        | {"unit": "t"},
        {"device": "WS-1", "seq": 1, "at": t[0].isoformat(), "kind": "weight", "value": "20"}
        | {"unit": "t"},  # duplicate
        {"device": "WS-1", "seq": 3, "at": t[2].isoformat(), "kind": "weight", "value": "19000"}
        | {"unit": "kg"},
        # out of order: would put the LTV at 220 % if it were applied
        {"device": "WS-1", "seq": 2, "at": t[1].isoformat(), "kind": "weight", "value": "5"}
        | {"unit": "t"},
        # late: measured two hours ago, 1 t: history, never an alert
        {"device": "WS-1", "seq": 4, "at": (now - timedelta(hours=2)).isoformat()}
        | {"kind": "weight", "value": "1", "unit": "t"},
        {"device": "WS-1", "seq": 5, "at": t[3].isoformat(), "kind": "weight", "value": "x"}
        | {"unit": "t"},  # malformed
        {"device": "WS-2", "seq": 1, "at": t[3].isoformat(), "kind": "weight", "value": "1"}
        | {"unit": "t"},  # another device's message under this token
        {"device": "WS-1", "seq": 6, "at": t[3].isoformat(), "kind": "gps", "lat": 1}
        | {"lon": 2},  # the wrong kind for the device
    ]
    with transaction(session_factory) as s:
        answer = iot.receive_http(s, token, json.dumps(batch).encode(), received_at=now)
    assert answer["counters"] == {
        "received": 8,
        "applied": 2,
        "duplicate": 1,
        "out_of_order": 1,
        "late": 1,
        "malformed": 3,
        "unknown_device": 0,
        "unbound": 0,
        "error": 0,
    }
    reasons = [r["reason"] for r in answer["results"] if r["outcome"] == "malformed"]
    assert reasons[0] == "value: 'x' is not a decimal number"
    assert "the token is device 'WS-1'" in reasons[1]
    assert "is a weight device, not gps" in reasons[2]
    with transaction(session_factory) as s:
        # unknown, unbound (WS-2 is registered but bound to nothing), retired, not JSON
        unknown = iot.receive(s, weight(1, t[3], "1", serial="NOPE"), source="mqtt")
        unbound = iot.receive(s, weight(1, t[3], "1", serial="WS-2"), source="mqtt")
        garbage = iot.receive(s, b"\x00\x01", source="mqtt", topic="chainfin/telemetry/WS-1")
        mismatch = iot.receive(s, weight(7, t[3], "1"), source="mqtt", topic="x/WS-9")
        assert [r.outcome for r in (unknown, unbound, garbage, mismatch)] == [
            Outcome.UNKNOWN_DEVICE,
            Outcome.UNBOUND,
            Outcome.MALFORMED,
            Outcome.MALFORMED,
        ]
    with session_factory() as s:
        statuses = dict(s.execute(select(IotReading.seq, IotReading.status)).all())
        assert statuses == {1: "applied", 3: "applied", 2: "out_of_order", 4: "late"}
        assert s.scalar(select(func.count()).select_from(IotDeadLetter)) == 3 + 4
        item = items(s.get_one(Loan, loan.id))
        assert item["quantity"] == "19"  # 19,000 kg, the latest measured
        assert alerts_of(s, "margin_call") == []
        codes = {d.reason_code for d in s.scalars(select(IotDeadLetter))}
        assert codes == {"malformed", "unknown_device", "unbound"}


def test_http_needs_the_devices_token(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        loan = pledge_loan(s, world)
        token = scale(s, world, loan)
        with pytest.raises(Unauthenticated):
            iot.receive_http(s, "not-a-token", b"{}")
        answer = iot.receive_http(s, token, b"{not json")
        assert answer["counters"]["malformed"] == 1
        iot.retire(s, world.staff("rm"), "WS-1", reason="replaced")
        with pytest.raises(Unauthenticated, match="retired"):
            iot.receive_http(s, token, b"{}")
        late = iot.receive(s, weight(1, utcnow(), "1"), source="mqtt")
        assert late.outcome is Outcome.UNBOUND


def waybill(s: Session, world: LendingWorld) -> str:
    row = {
        "kind": "waybill",
        "number": "WB-1",
        "seller_uscc": uscc(4),
        "buyer_uscc": uscc(3),
        "issue_date": (TODAY - timedelta(days=1)).isoformat(),
        "currency": "CNY",
        "total": "500000.00",
        "delivery_number": "DN-1",
        "carrier_uscc": uscc(6),
        "origin_region": "320505",
        "destination_region": "310115",
        "shipped_on": TODAY.isoformat(),
    }
    documents.ingest(s, world.ent("t1"), documents.parse_rows([row]))
    return str(s.scalar(select(documents.TradeDocumentRow.id).where(
        documents.TradeDocumentRow.number == "WB-1")))  # fmt: skip


def test_a_tracker_off_its_route_and_a_warm_probe_raise_alerts(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        doc = waybill(s, world)
        iot.register(s, rm, serial="GPS-1", kind="gps")
        iot.bind_shipment(s, rm, "GPS-1", waybill_id=doc, waypoints=ROUTE, max_km="5")
        probe, _ = iot.register(
            s,
            rm,
            serial="TP-1",
            kind="temperature",
            thresholds={"min_celsius": 2, "max_celsius": 8},
        )
        iot.bind_shipment(s, rm, "TP-1", waybill_id=doc, waypoints=ROUTE, max_km=5)
        with pytest.raises(ValidationFailed, match="follows a shipment"):
            iot.bind_pledge(s, rm, "GPS-1", loan_id="lon_x", item="x")
        with pytest.raises(NotFound):
            iot.device_for(s, world.credit.staff("BKB"), "GPS-1")
    fixes = [
        (1, 9, 31.27, 121.00, Outcome.APPLIED, False),  # on the route
        (3, 120, 31.50, 121.00, Outcome.LATE, False),  # off, but two hours ago
        (4, 7, 31.50, 121.00, Outcome.APPLIED, True),  # off the route: ~25 km
        (2, 8, 31.60, 121.00, Outcome.OUT_OF_ORDER, False),  # older than the current
        (5, 6, 31.55, 121.05, Outcome.APPLIED, False),  # still off: the same alert
    ]
    for seq, ago, lat, lon, expected, alerted in fixes:
        with transaction(session_factory) as s:
            at = now - timedelta(minutes=ago)
            r = iot.receive(s, msg("GPS-1", seq, at, "gps", lat=lat, lon=lon), source="mqtt",
                            received_at=now)  # fmt: skip
            assert (r.outcome, bool(r.alerts)) == (expected, alerted), seq
    temps = [(1, 90, "12.5", Outcome.LATE, False), (2, 5, "9.5", Outcome.APPLIED, True)]
    for seq, ago, celsius, expected, alerted in temps:
        with transaction(session_factory) as s:
            at = now - timedelta(minutes=ago)
            r = iot.receive(s, msg("TP-1", seq, at, "temperature", celsius=celsius),
                            source="mqtt", received_at=now)  # fmt: skip
            assert (r.outcome, bool(r.alerts)) == (expected, alerted), seq
    with session_factory() as s:
        (off,) = alerts_of(s, "shipment_off_route")
        assert off.subject_id == doc
        assert "km from its route" in off.message
        (warm,) = alerts_of(s, "temperature_out_of_range")
        assert warm.subject_id == probe.id
        assert "9.5 °C is above the maximum 8 °C" in warm.message


def test_silent_devices_are_swept(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as s:
        loan = pledge_loan(s, world)
        scale(s, world, loan)
        assert iot.sweep_silent(s, world.staff("rm")) == 0
        later = utcnow() + timedelta(minutes=61)
        assert iot.sweep_silent(s, world.staff("rm"), now=later) == 1
        assert iot.sweep_silent(s, world.staff("rm"), now=later) == 0  # one per condition


def test_binding_rules(world: LendingWorld, session_factory: sessionmaker[Session]) -> None:
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        loan = pledge_loan(s, world)
        scale(s, world, loan)
        with pytest.raises(Conflict, match="registered already"):
            iot.register(s, rm, serial="WS-1", kind="weight", unit="t")
        with pytest.raises(ValidationFailed) as caught:
            iot.register(s, rm, serial="a/b", kind="weight", unit="lb")
        assert {e.field for e in caught.value.errors} == {"serial", "unit"}
        iot.register(s, rm, serial="WS-2", kind="weight", unit="kg")
        with pytest.raises(Conflict, match="measured by weight device WS-1"):
            iot.bind_pledge(s, rm, "WS-2", loan_id=loan.id, item="copper foil")
        with pytest.raises(ValidationFailed, match="no pledged item 'gold'"):
            iot.bind_pledge(s, rm, "WS-2", loan_id=loan.id, item="gold")
        iot.register(s, rm, serial="RF-1", kind="rfid")
        with pytest.raises(ValidationFailed, match="measures in pcs"):
            iot.bind_pledge(s, rm, "RF-1", loan_id=loan.id, item="copper foil")


def test_the_demo_simulation_through_the_processor(
    world: LendingWorld, session_factory: sessionmaker[Session]
) -> None:
    rm = world.staff("rm")
    with transaction(session_factory) as s:
        loan = pledge_loan(s, world)
        scale(s, world, loan)
        doc = waybill(s, world)
        iot.register(s, rm, serial="GPS-1", kind="gps")
        iot.bind_shipment(s, rm, "GPS-1", waybill_id=doc, waypoints=ROUTE, max_km="5")
        plan = iot.simulation(s, rm, "all")
    processor = iot.Processor(session_factory)
    for serial, payload in plan:
        processor.handle(f"chainfin/telemetry/{serial}", payload)
    counts = processor.counters.as_dict()
    assert counts == {
        "received": 15,
        "applied": 7,
        "duplicate": 2,
        "out_of_order": 2,
        "late": 2,
        "malformed": 2,
        "unknown_device": 0,
        "unbound": 0,
        "error": 0,
    }
    with session_factory() as s:
        assert len(alerts_of(s, "margin_call")) == 1
        assert len(alerts_of(s, "shipment_off_route")) == 1
        item = items(s.get_one(Loan, loan.id))
        assert Decimal(item["quantity"]) == Decimal(12)  # 60 % of 20 t


def test_the_api_registers_binds_and_takes_telemetry_over_http(
    world: LendingWorld,
    session_factory: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
) -> None:
    with transaction(session_factory) as s:
        loan = pledge_loan(s, world)
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        secret_key="k" * 40,
        data_keys=TEST_DATA_KEYS,
        ledger_sequencer=False,
        ledger_origin=ORIGIN,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        r = client.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "bka-rm", "password": PASSWORD},
        )
        staff = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = client.post(
            "/v1/iot/devices", json={"serial": "WS-9", "kind": "weight", "unit": "t"}, headers=staff
        )
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        r = client.post(
            "/v1/iot/devices/WS-9/bind",
            json={"loan_id": loan.id, "item": "copper foil"},
            headers={**staff, "Idempotency-Key": "bind-1"},
        )
        assert r.status_code == 200, r.text
        binding = {"kind": "pledge", "loan_id": loan.id, "item": "copper foil"}
        assert r.json()["binding"] == binding
        at = (utcnow() - timedelta(minutes=1)).isoformat()
        one = {"device": "WS-9", "seq": 1, "at": at, "kind": "weight", "value": "13", "unit": "t"}
        r = client.post("/v1/iot/telemetry", json=[one, one, {"device": "WS-9"}],
                        headers={"X-Device-Token": token})  # fmt: skip
        assert r.status_code == 200, r.text
        counters = r.json()["counters"]
        assert (counters["applied"], counters["duplicate"], counters["malformed"]) == (1, 1, 1)
        assert r.json()["results"][0]["alerts"]  # 13 t: the margin call
        assert client.post("/v1/iot/telemetry", json=one).status_code == 401
        r = client.get("/v1/iot/devices/WS-9/readings", headers=staff)
        assert [x["status"] for x in r.json()["items"]] == ["applied"]
        later = [{**one, "seq": n, "at": (utcnow() - timedelta(seconds=60 - n)).isoformat()}
                 for n in (2, 3, 4)]  # fmt: skip
        r = client.post("/v1/iot/telemetry", json=later, headers={"X-Device-Token": token})
        assert r.json()["counters"]["applied"] == 3
        # the readings, the latest received first, two a page
        first = client.get("/v1/iot/devices/WS-9/readings?limit=2", headers=staff).json()
        rest = client.get(
            "/v1/iot/devices/WS-9/readings",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=staff,
        ).json()
        assert [x["seq"] for x in first["items"] + rest["items"]] == [4, 3, 2, 1]
        assert rest["next_cursor"] is None
        since = {"since": later[1]["at"]}  # measured from seq 3's instant
        r = client.get("/v1/iot/devices/WS-9/readings", params=since, headers=staff)
        assert [x["seq"] for x in r.json()["items"]] == [4, 3]
        r = client.get("/v1/iot/dead-letters", headers=staff)
        assert [x["reason_code"] for x in r.json()["items"]] == ["malformed"]
        r = client.get("/v1/iot/dead-letters?reason_code=unbound", headers=staff)
        assert r.json()["items"] == []
        r = client.post("/v1/iot/devices/WS-9/retire", json={"reason": "done"}, headers=staff)
        assert r.json()["state"] == "retired"
        assert "receipt" in r.json()
        r = client.get("/v1/iot/devices?state=active", headers=staff)
        assert r.json() == {"items": [], "next_cursor": None}
        r = client.get("/v1/iot/devices?state=retired&kind=weight", headers=staff)
        assert [d["serial"] for d in r.json()["items"]] == ["WS-9"]
    app.state.engine.dispose()
