"""IoT telemetry throughput: print figures, assert nothing.

    .venv/bin/python bench/iot.py                       # SQLite under var/bench/, ~30 s
    .venv/bin/python bench/iot.py --messages 2000       # quicker
    .venv/bin/python bench/iot.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/iot.py --broker mqtt://127.0.0.1:1883  # default; unreachable: skip

Setup, through the services: a bank, a shipper that banks with it, a waybill, and 20 GPS
trackers bound to it (corridor Suzhou to Shanghai, 5 km).

Figures:

1. Direct, one message a transaction (what the MQTT listener does, without MQTT):
   ``Processor.handle`` on in-order positions round-robin over the trackers; then the same
   with every fifth message a duplicate.
2. Direct, HTTP-less batches: ``receive_http`` with 500 messages a call (one transaction,
   a savepoint per message), as the HTTP fallback takes a device's buffered readings.
3. End to end through the broker: a listener subscribed with QoS 1 and a publisher sending
   QoS 1 (each message acknowledged before the next); timed from the first publish to the
   last message processed, the publisher kept at most 500 messages ahead of the listener.
   Then the same count published flat out: what a broker's bounded queue for a slow
   subscriber drops (see docs/iot.md, "Operating").
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters import mqtt
from chainfin.adapters.db import crypto, migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.adapters.db.models import TradeDocumentRow
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM, EnterpriseRole, Principal, StaffRole
from chainfin.domain.clock import utcnow
from chainfin.domain.registry import BankRecord, EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import documents, iot, registry

VAR = Path("var/bench")
SCHEMA = "chainfin_bench_iot"
TRACKERS = 20
CHUNK = 500
ROUTE = [[31.2989, 120.5853], [31.2304, 121.4737]]


def line(name: str, value: str) -> None:
    print(f"{name:<62} {value}", flush=True)


def fresh(url: str | None) -> str:
    if url is None:
        VAR.mkdir(parents=True, exist_ok=True)
        db = VAR / "iot.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{SCHEMA}"


def setup(factory: sessionmaker[Session]) -> list[str]:
    def ent(n: int, name: str, role: Role) -> EnterpriseRecord:
        return EnterpriseRecord(make_uscc("9", "1", "320505", f"{n:08d}"), name, "320505",
                                "C32", frozenset({role}))  # fmt: skip

    bank, shipper, buyer, carrier = (
        ent(1, "bank", Role.BANK),
        ent(2, "shipper", Role.SUPPLIER),
        ent(3, "buyer", Role.CORE),
        ent(4, "carrier", Role.SUPPLIER),
    )
    with transaction(factory) as s:
        registry.import_enterprises(s, SYSTEM, [bank, shipper, buyer, carrier])
        b = registry.create_bank(s, SYSTEM, BankRecord("BKI", "bank", bank.uscc))
        s.flush()
        ids = registry.ids_by_uscc(s, [shipper.uscc])
        registry.link_customers(s, SYSTEM, b.id, [ids[shipper.uscc]])
        shipper_user = Principal.enterprise_user(
            "usr_bench", enterprise_id=ids[shipper.uscc], roles=[EnterpriseRole.ENTERPRISE_ADMIN]
        )
        today = clock.today()
        row = {
            "kind": "waybill", "number": "WB-BENCH", "seller_uscc": shipper.uscc,
            "buyer_uscc": buyer.uscc, "issue_date": today.isoformat(), "currency": "CNY",
            "total": "100000.00", "delivery_number": "DN-1", "carrier_uscc": carrier.uscc,
            "origin_region": "320505", "destination_region": "310115",
            "shipped_on": today.isoformat(),
        }  # fmt: skip
        documents.ingest(s, shipper_user, documents.parse_rows([row]))
        doc = s.scalars(select(TradeDocumentRow.id)).one()
        staff = Principal.staff("usr_staff", bank_id=b.id, roles=[StaffRole.RELATIONSHIP_MANAGER])
        serials = []
        for n in range(TRACKERS):
            serial = f"GPS-{n:03d}"
            iot.register(s, staff, serial=serial, kind="gps")
            iot.bind_shipment(s, staff, serial, waybill_id=doc, waypoints=ROUTE, max_km="5")
            serials.append(serial)
    return serials


class Feed:
    """In-order positions on the route, round-robin over the trackers."""

    def __init__(self, serials: list[str]) -> None:
        self.serials = serials
        self.seq = dict.fromkeys(serials, 0)
        self.start = utcnow() - timedelta(minutes=30)
        self.n = 0

    def next(self) -> tuple[str, bytes]:
        serial = self.serials[self.n % len(self.serials)]
        self.n += 1
        self.seq[serial] += 1
        share = (self.n % 1000) / 1000
        lat = ROUTE[0][0] + (ROUTE[1][0] - ROUTE[0][0]) * share
        lon = ROUTE[0][1] + (ROUTE[1][1] - ROUTE[0][1]) * share
        at = self.start + timedelta(milliseconds=self.n)
        body = {"device": serial, "seq": self.seq[serial], "at": at.isoformat(), "kind": "gps",
                "lat": round(lat, 6), "lon": round(lon, 6)}  # fmt: skip
        return serial, json.dumps(body).encode()


def direct(factory: sessionmaker[Session], feed: Feed, count: int, dup_every: int = 0) -> None:
    proc = iot.Processor(factory)
    last: tuple[str, bytes] | None = None
    t0 = time.perf_counter()
    for n in range(count):
        if dup_every and last is not None and n % dup_every == 0:
            serial, payload = last
        else:
            serial, payload = last = feed.next()
        proc.handle(f"chainfin/telemetry/{serial}", payload)
    took = time.perf_counter() - t0
    label = "direct, a transaction each" + (f", 1 in {dup_every} a duplicate" if dup_every else "")
    line(f"{label} ({count} msgs)", f"{count / took:,.0f} msg/s  {proc.counters.line()}")


def batches(factory: sessionmaker[Session], feed: Feed, count: int, tokens: dict[str, str]) -> None:
    serial = feed.serials[0]
    only = Feed([serial])
    only.seq[serial] = feed.seq[serial]
    only.start = feed.start + timedelta(hours=0, milliseconds=feed.n + 1)
    t0 = time.perf_counter()
    applied = 0
    for _ in range(max(1, count // 500)):
        body = "[" + ",".join(only.next()[1].decode() for _ in range(500)) + "]"
        with transaction(factory) as s:
            applied += iot.receive_http(s, tokens[serial], body.encode())["counters"]["applied"]
    took = time.perf_counter() - t0
    total = max(1, count // 500) * 500
    line(f"HTTP-less batches of 500, one device ({total} msgs)", f"{total / took:,.0f} msg/s "
         f"({applied} applied)")  # fmt: skip
    feed.seq[serial] = only.seq[serial]
    feed.start = only.start + timedelta(milliseconds=only.n + 1)


def end_to_end(factory: sessionmaker[Session], feed: Feed, count: int, broker: str) -> None:
    prefix = f"chainfin-bench/{uuid.uuid4().hex}/telemetry"
    proc = iot.Processor(factory)
    listener = mqtt.Listener(broker, f"{prefix}/#", proc.handle)
    listener.start()
    try:
        if not listener.wait_ready(5):
            line("end to end through the broker", f"SKIPPED: {broker} unreachable")
            return
        messages = [(f"{prefix}/{s}", p) for s, p in (feed.next() for _ in range(count))]
        # Paced: a chunk at a time, never more than CHUNK ahead of the listener. A broker
        # keeps a bounded queue for a subscriber that falls behind (Mosquitto's
        # max_queued_messages, 1000 by default) and drops what does not fit.
        t0 = time.perf_counter()
        for start in range(0, count, CHUNK):
            mqtt.publish(broker, messages[start : start + CHUNK])
            mqtt.wait_for(lambda n=start: proc.counters.received >= n, 60)
        mqtt.wait_for(lambda: proc.counters.received >= count, 60)
        took = time.perf_counter() - t0
        unpaced = [(f"{prefix}/{s}", p) for s, p in (feed.next() for _ in range(count))]
        before = proc.counters.received
        t1 = time.perf_counter()
        mqtt.publish(broker, unpaced)
        published = time.perf_counter() - t1
        mqtt.wait_for(lambda: proc.counters.received >= before + count, 30)
        unpaced_got = proc.counters.received - before
    finally:
        listener.stop()
    got = proc.counters.received - unpaced_got
    line(f"end to end, QoS 1 through {broker}, paced ({count} msgs)",
         f"{got / took:,.0f} msg/s ({got} of {count} processed)")  # fmt: skip
    line(f"  unpaced: all {count} published at {count / published:,.0f} msg/s",
         f"{unpaced_got} processed, {count - unpaced_got} dropped by the broker")  # fmt: skip
    line("  counters", proc.counters.line())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--database-url", default=os.environ.get("CHAINFIN_BENCH_DATABASE_URL"))
    parser.add_argument("--broker", default=os.environ.get("CHAINFIN_BENCH_MQTT_URL",
                                                           "mqtt://127.0.0.1:1883"))  # fmt: skip
    args = parser.parse_args()
    crypto.configure(FieldCipher.from_spec(FieldCipher.new_spec()))
    url = fresh(args.database_url)
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    serials = setup(factory)
    line("database", engine.dialect.name)
    feed = Feed(serials)
    tokens = {}
    with transaction(factory) as s:  # fresh tokens for the HTTP path (shown once at register)
        for device in iot.devices(s, SYSTEM, limit=500).items:
            token = uuid.uuid4().hex + uuid.uuid4().hex
            device.token_hash = iot.token_hash(token)
            tokens[device.serial] = token
    direct(factory, feed, args.messages)
    direct(factory, feed, args.messages, dup_every=5)
    batches(factory, feed, args.messages, tokens)
    end_to_end(factory, feed, min(args.messages, 5000), args.broker)
    engine.dispose()


if __name__ == "__main__":
    main()
