"""Telemetry through a real MQTT broker: the listener (paho's network thread) against the
broker named by CHAINFIN_TEST_MQTT_URL, one topic prefix per test; duplicates, out-of-order,
malformed and late messages are counted and the database holds what they should leave;
the listener survives whatever it is sent.

    CHAINFIN_TEST_MQTT_URL=mqtt://127.0.0.1:1883 .venv/bin/pytest tests/test_iot_mqtt.py
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters import mqtt
from chainfin.adapters.db.engine import make_engine, transaction
from chainfin.adapters.db.models import Alert, IotDeadLetter, IotDevice, IotReading
from chainfin.domain.clock import utcnow
from chainfin.services import documents, iot, ledger, ledger_verify
from credit_world import uscc
from lending_world import TODAY, LendingWorld, build_lending

MQTT_URL = os.environ.get("CHAINFIN_TEST_MQTT_URL")
needs_broker = pytest.mark.skipif(
    not MQTT_URL,
    reason="MQTT broker not configured: set CHAINFIN_TEST_MQTT_URL (e.g. mqtt://127.0.0.1:1883)",
)
ORIGIN = "chainfin.test/ledger"
ROUTE = [[31.2989, 120.5853], [31.2304, 121.4737]]  # Suzhou to Shanghai
WAIT = 15.0  # seconds: the most any test waits for the listener


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> Iterator[LendingWorld]:
    """The lending world with a tracker GPS-1 on a waybill; the log verifies afterwards."""
    world = build_lending(session_factory)
    rm = world.staff("rm")
    with transaction(session_factory) as s:
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
        iot.register(s, rm, serial="GPS-1", kind="gps")
        doc_id = s.scalars(
            select(documents.TradeDocumentRow.id).where(documents.TradeDocumentRow.number == "WB-1")
        ).one()
        iot.bind_shipment(s, rm, "GPS-1", waybill_id=doc_id, waypoints=ROUTE, max_km="5")
    yield world
    with transaction(session_factory) as s:
        ledger.sequence(s, ORIGIN)
    with session_factory() as s:
        report = ledger_verify.verify(s, origin=ORIGIN)
    assert report.ok, report.findings[:5]


@pytest.fixture
def prefix() -> str:
    return f"chainfin-test/{uuid.uuid4().hex}/telemetry"


@pytest.fixture
def processor(
    world: LendingWorld, session_factory: sessionmaker[Session], prefix: str
) -> Iterator[iot.Processor]:
    """A listener on this test's own topics, subscribed before the test publishes."""
    assert MQTT_URL is not None
    proc = iot.Processor(session_factory)
    listener = mqtt.Listener(MQTT_URL, f"{prefix}/#", proc.handle)
    listener.start()
    try:
        assert listener.wait_ready(WAIT), f"no subscription on {MQTT_URL}"
        yield proc
    finally:
        listener.stop()


def fix(seq: int, at: datetime, lat: float, lon: float, device: str = "GPS-1") -> bytes:
    body = {"device": device, "seq": seq, "at": at.isoformat(), "kind": "gps"}
    return json.dumps({**body, "lat": lat, "lon": lon}).encode()


def send(prefix: str, *payloads: bytes, device: str = "GPS-1") -> None:
    assert MQTT_URL is not None
    assert mqtt.publish(MQTT_URL, [(f"{prefix}/{device}", p) for p in payloads]) == len(payloads)


def settled(proc: iot.Processor, received: int) -> dict[str, Any]:
    """Wait (polling, bounded) until the listener has processed ``received`` messages."""
    assert mqtt.wait_for(lambda: proc.counters.received >= received, WAIT), (
        f"the listener processed {proc.counters.as_dict()} of {received}"
    )
    return proc.counters.as_dict()


@needs_broker
def test_duplicates_out_of_order_malformed_and_late_over_mqtt(
    processor: iot.Processor, prefix: str, session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    send(
        prefix,
        fix(1, now - timedelta(minutes=9), 31.27, 121.00),  # on the route
        fix(1, now - timedelta(minutes=9), 31.27, 121.00),  # duplicate
        fix(3, now - timedelta(minutes=7), 31.26, 121.10),  # on the route
        fix(2, now - timedelta(minutes=8), 31.60, 121.00),  # out of order (and off route)
        b'{"device": "GPS-1", "seq": 4, "kind": "gps", "lat": 1',  # malformed: cut short
        fix(5, now - timedelta(hours=3), 31.60, 121.00),  # late (and off route)
        fix(6, now - timedelta(minutes=5), 31.25, 121.20),  # the listener is still there
    )
    counts = settled(processor, 7)
    assert counts == {
        "received": 7,
        "applied": 3,
        "duplicate": 1,
        "out_of_order": 1,
        "late": 1,
        "malformed": 1,
        "unknown_device": 0,
        "unbound": 0,
        "error": 0,
    }
    with session_factory() as s:
        statuses = dict(s.execute(select(IotReading.seq, IotReading.status)).all())
        assert statuses == {1: "applied", 3: "applied", 2: "out_of_order", 5: "late", 6: "applied"}
        device = s.scalars(select(IotDevice)).one()
        assert device.last_seq == 6
        (dead,) = s.scalars(select(IotDeadLetter))
        assert (dead.reason_code, dead.topic) == ("malformed", f"{prefix}/GPS-1")
        assert "is not JSON" in dead.reason
        # neither the out-of-order nor the late position off the route raised an alert
        assert s.scalars(select(Alert).where(Alert.kind == "shipment_off_route")).all() == []


@needs_broker
def test_an_off_route_position_alerts_once_and_garbage_is_survived(
    processor: iot.Processor, prefix: str, session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    send(prefix, b"\xff\xfe\x00 not even text", device="GPS-1")
    send(prefix, fix(1, now, 31.27, 121.0, device="NOBODY"), device="NOBODY")
    send(
        prefix,
        fix(1, now - timedelta(minutes=3), 31.50, 121.00),  # ~25 km off: alert
        fix(2, now - timedelta(minutes=2), 31.55, 121.05),  # still off: the same alert
        fix(3, now - timedelta(minutes=1), 31.27, 121.00, device="GPS-2"),  # topic says GPS-1
    )
    counts = settled(processor, 5)
    assert (counts["applied"], counts["malformed"], counts["unknown_device"]) == (2, 2, 1)
    with session_factory() as s:
        (alert,) = s.scalars(select(Alert).where(Alert.kind == "shipment_off_route"))
        assert "km from its route" in alert.message
        reasons = {d.reason_code for d in s.scalars(select(IotDeadLetter))}
        assert reasons == {"malformed", "unknown_device"}


@needs_broker
def test_a_handler_that_raises_does_not_stop_the_listener(prefix: str) -> None:
    assert MQTT_URL is not None
    seen: list[bytes] = []

    def handle(topic: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("boom")
        seen.append(payload)

    listener = mqtt.Listener(MQTT_URL, f"{prefix}/#", handle)
    listener.start()
    try:
        assert listener.wait_ready(WAIT)
        send(prefix, b"boom", b"after")
        assert mqtt.wait_for(lambda: seen == [b"after"], WAIT)
        assert listener.handler_errors == 1
    finally:
        listener.stop()


def _failing_commits(
    factory: sessionmaker[Session], times: int, exc: Callable[[], Exception]
) -> Callable[[], None]:
    """The next ``times`` commits through ``factory`` fail with ``exc()``; returns the undo."""
    left = [times]

    def before_commit(session: Session) -> None:
        if left[0] > 0 and not session.in_nested_transaction():  # not a savepoint's release
            left[0] -= 1
            raise exc()

    def restore() -> None:
        if event.contains(factory, "before_commit", before_commit):
            event.remove(factory, "before_commit", before_commit)

    event.listen(factory, "before_commit", before_commit)
    return restore


def _lost_database() -> Exception:
    return OperationalError("COMMIT", {}, Exception("server closed the connection"))


@pytest.mark.parametrize("exc", [_lost_database, lambda: RuntimeError("commit refused")])
def test_a_message_that_does_not_commit_raises_redeliver_and_counts_nothing(
    world: LendingWorld, session_factory: sessionmaker[Session], exc: Callable[[], Exception]
) -> None:
    proc = iot.Processor(session_factory)
    restore = _failing_commits(session_factory, proc.retries, exc)
    try:
        with pytest.raises(mqtt.Redeliver):
            proc.handle("chainfin/telemetry/GPS-1", fix(1, utcnow(), 31.27, 121.0))
    finally:
        restore()
    assert proc.not_committed == 1
    assert proc.counters.received == 0
    with session_factory() as s:
        assert s.scalars(select(IotReading)).all() == []
    again = proc.handle("chainfin/telemetry/GPS-1", fix(1, utcnow(), 31.27, 121.0))
    assert again.outcome.value == "applied"


@needs_broker
def test_each_puback_leaves_after_its_commit_and_a_failed_commit_is_redelivered(
    world: LendingWorld, session_factory: sessionmaker[Session], database_url: str, prefix: str
) -> None:
    """A persistent session (a fixed client id). The PUBACK is spied on: when each one
    leaves, a connection of the test's own must already see the message's reading. A message
    whose every commit attempt fails is not acknowledged; the listener reconnects, the broker
    delivers it again, and it is stored once."""
    assert MQTT_URL is not None
    client_id = f"chainfin-test-{uuid.uuid4().hex[:12]}"
    proc = iot.Processor(session_factory)
    listener = mqtt.Listener(MQTT_URL, f"{prefix}/#", proc.handle, client_id=client_id)
    observer = make_engine(database_url)
    acked: list[int] = []  # readings committed, seen from outside, as each PUBACK left
    paho = listener._client
    real_ack = paho.ack

    def ack(mid: int, qos: int) -> Any:
        with observer.connect() as conn:
            acked.append(conn.execute(select(func.count()).select_from(IotReading)).scalar_one())
        return real_ack(mid, qos)

    paho.ack = ack

    def committed() -> int:
        with observer.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(IotReading)).scalar_one())

    now = utcnow()
    restore = _failing_commits(session_factory, proc.retries, _lost_database)
    listener.start()
    try:
        assert listener.wait_ready(WAIT), f"no subscription on {MQTT_URL}"
        send(prefix, fix(1, now - timedelta(minutes=9), 31.27, 121.00))
        assert mqtt.wait_for(lambda: committed() == 1 and len(acked) == 1, WAIT), (
            f"committed {committed()}, acknowledged {acked}, {proc.counters.as_dict()}"
        )
        assert (proc.not_committed, listener.unacknowledged) == (1, 1)
        assert listener.connects >= 2  # it reconnected to have the message again
        assert acked == [1]  # no PUBACK for the failed delivery; one after the commit
        restore()
        send(prefix, *(fix(n, now - timedelta(minutes=9 - n), 31.27, 121.00) for n in range(2, 7)))
        assert mqtt.wait_for(lambda: len(acked) == 6, WAIT), acked
    finally:
        restore()
        listener.stop()
        observer.dispose()
        mqtt.publish(MQTT_URL, [], client_id=client_id)  # a clean session ends the stored one
    assert acked == [1, 2, 3, 4, 5, 6]  # the n-th PUBACK left with n readings committed
    assert proc.counters.as_dict()["applied"] == 6
    with session_factory() as s:
        assert sorted(s.scalars(select(IotReading.seq))) == [1, 2, 3, 4, 5, 6]


def test_broker_urls() -> None:
    b = mqtt.Broker.parse("mqtts://dev%40x:s3cret@broker.example:8884")
    assert (b.host, b.port, b.tls, b.username, b.password) == (
        "broker.example",
        8884,
        True,
        "dev@x",
        "s3cret",
    )
    assert mqtt.Broker.parse("mqtt://127.0.0.1").port == 1883
    with pytest.raises(ValueError, match="scheme"):
        mqtt.Broker.parse("http://127.0.0.1:1883")
