"""``chainfin iot …``: devices bound to pledges and shipments, the MQTT listener and the
demo's simulator.

    chainfin iot register --bank BKA --serial WS-0001 --kind weight --unit t
    chainfin iot bind WS-0001 --bank BKA --loan lon_… --item "copper foil"
    chainfin iot bind GPS-01 --bank BKA --waybill doc_… --max-km 5 \\
        --waypoints "31.30,120.59;31.23,121.47"
    chainfin iot listen --broker mqtt://127.0.0.1:1883 [--topic chainfin/telemetry/#] [--seconds N]
    chainfin iot simulate --broker mqtt://127.0.0.1:1883 --scenario all
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from chainfin.adapters import mqtt
from chainfin.adapters.db import crypto
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
from chainfin.cli.common import database_url, err, fail, operator_session, out, print_json
from chainfin.cli.lending import bank_actor, run_as
from chainfin.config import get_settings
from chainfin.domain.access import SYSTEM
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.services import iot

app = typer.Typer(
    help="IoT devices on pledges and shipments, telemetry over MQTT", no_args_is_help=True
)

BankReq = Annotated[str, typer.Option("--bank", help="act as this bank's staff (code)")]
BankOpt = Annotated[
    str | None, typer.Option("--bank", help="this bank's devices only (default: all)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
BrokerOpt = Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT or mqtts://…")]
PREFIX = "chainfin/telemetry"


def _show_device(d: dict[str, Any]) -> None:
    binding = d["binding"] or {}
    where = (
        f"pledge {binding['pledge']['loan_id']} / {binding['pledge']['item']}"
        if "pledge" in binding
        else f"shipment {binding['shipment']['waybill_id']}"
        if "shipment" in binding
        else "unbound"
    )
    out.print(
        f"device {d['serial']} ({d['id']})  {d['kind']}  {d['state']}  {escape(where)}  "
        f"last seq {d['last_seq']} at {d['last_at']}"
    )
    if d.get("token"):
        out.print(f"  HTTP token (shown once): {d['token']}")


def _show_devices(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("no devices")
        return
    for row in rows:
        _show_device(row)


@app.command("register")
def register_cmd(
    bank: BankReq,
    serial: Annotated[str, typer.Option(help="the vendor's serial")],
    kind: Annotated[str, typer.Option(help="weight, rfid, gps or temperature")],
    unit: Annotated[str | None, typer.Option(help="weight: g, kg, t; rfid: pcs")] = None,
    min_celsius: Annotated[str | None, typer.Option()] = None,
    max_celsius: Annotated[str | None, typer.Option()] = None,
    silent_after: Annotated[int | None, typer.Option(help="minutes without a message")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a device; prints its HTTP token once."""
    thresholds: dict[str, Any] = {
        k: v
        for k, v in (
            ("min_celsius", min_celsius),
            ("max_celsius", max_celsius),
            ("silent_after_minutes", silent_after),
        )
        if v is not None
    }

    def work(s: Any, a: Any) -> dict[str, Any]:
        device, token = iot.register(
            s, a, serial=serial, kind=kind, unit=unit, thresholds=thresholds
        )
        return {**iot.device_out(device), "token": token}

    run_as(as_json, bank_actor(bank), work, _show_device)


def _waypoints(text: str) -> list[list[str]]:
    points = []
    for n, pair in enumerate(p for p in text.split(";") if p.strip()):
        parts = [x.strip() for x in pair.split(",")]
        if len(parts) != 2:
            raise ValidationFailed([FieldError(f"--waypoints[{n}]", f"{pair!r} is not LAT,LON")])
        points.append(parts)
    return points


@app.command("bind")
def bind_cmd(
    device: Annotated[str, typer.Argument(help="device id or serial")],
    bank: BankReq,
    loan: Annotated[str | None, typer.Option(help="pledge: the loan")] = None,
    item: Annotated[str | None, typer.Option(help="pledge: the pledged item")] = None,
    waybill: Annotated[str | None, typer.Option(help="shipment: the waybill document")] = None,
    waypoints: Annotated[str, typer.Option(help='shipment route "LAT,LON;LAT,LON;…"')] = "",
    max_km: Annotated[str, typer.Option(help="shipment: corridor half-width, km")] = "5",
    as_json: JsonOpt = False,
) -> None:
    """Bind a device to a pledge (--loan, --item) or a shipment (--waybill, --waypoints)."""

    def work(s: Any, a: Any) -> dict[str, Any]:
        if waybill:
            row = iot.bind_shipment(
                s, a, device, waybill_id=waybill, waypoints=_waypoints(waypoints), max_km=max_km
            )
        else:
            if not loan or not item:
                raise ValidationFailed(
                    [FieldError("--loan/--item", "give a loan and an item, or a --waybill")]
                )
            row = iot.bind_pledge(s, a, device, loan_id=loan, item=item)
        return iot.device_out(row)

    run_as(as_json, bank_actor(bank), work, _show_device)


@app.command("retire")
def retire_cmd(
    device: Annotated[str, typer.Argument(help="device id or serial")],
    bank: BankReq,
    reason: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    """Retire a device: its messages are dead letters from now on."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: iot.device_out(iot.retire(s, a, device, reason=reason)),
        _show_device,
    )


@app.command("devices")
def devices_cmd(
    bank: BankOpt = None,
    state: Annotated[str | None, typer.Option(help="active or retired")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List devices."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: [iot.device_out(d) for d in iot.devices(s, a, state=state)],
        _show_devices,
    )


def _show_readings(rows: list[dict[str, Any]]) -> None:
    table = Table(title="readings (latest measured first)")
    for column in ("seq", "at", "received", "status", "value", "position"):
        table.add_column(column)
    for r in rows:
        value = f"{r['value']} {r['unit']}" if r["value"] is not None else ""
        where = f"{r['lat']}, {r['lon']}" if r["lat"] is not None else ""
        table.add_row(str(r["seq"]), r["at"], r["received_at"], r["status"], value, where)
    out.print(table)


@app.command("readings")
def readings_cmd(
    device: Annotated[str, typer.Argument(help="device id or serial")],
    bank: BankOpt = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOpt = False,
) -> None:
    """A device's readings."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: [iot.reading_out(r) for r in iot.readings(s, a, device, limit=limit)],
        _show_readings,
    )


@app.command("dead-letters")
def dead_letters_cmd(
    bank: BankOpt = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Messages that could not be used, and why."""

    def show(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            out.print(
                f"{r['received_at']}  {r['reason_code']}  {r['device'] or '?'}  "
                f"{escape(r['reason'])}"
            )
        if not rows:
            out.print("no dead letters")

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: [iot.dead_letter_out(r) for r in iot.dead_letters(s, a, limit=limit)],
        show,
    )


@app.command("sweep")
def sweep_cmd(bank: BankOpt = None, as_json: JsonOpt = False) -> None:
    """Raise device_silent for bound devices not heard from in time."""
    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: {"device_silent": iot.sweep_silent(s, a)},
        lambda b: out.print(f"{b['device_silent']} silent device alert(s) raised"),
    )


def _broker(url: str) -> None:
    try:
        mqtt.Broker.parse(url)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--broker") from None


@app.command("listen")
def listen_cmd(
    broker: BrokerOpt,
    topic: Annotated[str, typer.Option(help="MQTT topic filter")] = f"{PREFIX}/#",
    seconds: Annotated[float | None, typer.Option(help="stop after N seconds")] = None,
    client_id: Annotated[
        str | None,
        typer.Option(help="a fixed id: a persistent session (the broker keeps messages)"),
    ] = None,
    lateness_minutes: Annotated[int, typer.Option(help="older than this on receipt: late")] = 60,
    report_every: Annotated[float, typer.Option(help="print counters every N seconds")] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Receive telemetry until stopped (Ctrl-C, SIGTERM or --seconds): each message in its
    own transaction; counters printed periodically and on exit; silent devices swept at
    each report."""
    _broker(broker)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    crypto.configure(FieldCipher.from_spec(get_settings().data_key_spec()))
    engine = make_engine(database_url())
    factory = make_session_factory(engine)
    processor = iot.Processor(factory, lateness=timedelta(minutes=lateness_minutes))
    listener = mqtt.Listener(broker, topic, processor.handle, client_id=client_id)
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    listener.start()
    if not listener.wait_ready(10):
        err.print(f"[yellow]not subscribed yet to {topic} on {broker}; retrying[/yellow]")
    started = last_report = time.monotonic()
    try:
        while not stopping:
            now = time.monotonic()
            if seconds is not None and now - started >= seconds:
                break
            if now - last_report >= report_every:
                last_report = now
                err.print(f"counters {processor.counters.line()}")
                try:
                    with transaction(factory) as s:
                        iot.sweep_silent(s, iot.LISTENER)
                except Exception as exc:  # noqa: BLE001 - the sweep must not stop the listener
                    err.print(f"[yellow]silent-device sweep failed: {exc}[/yellow]")
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        engine.dispose()
    counts = processor.counters.as_dict()
    if as_json:
        print_json(
            {
                "counters": counts,
                "handler_errors": listener.handler_errors,
                "not_committed": processor.not_committed,  # left unacknowledged: redelivered
            }
        )
    else:
        out.print(f"counters {processor.counters.line()} not_committed={processor.not_committed}")


@app.command("simulate")
def simulate_cmd(
    broker: BrokerOpt,
    scenario: Annotated[str, typer.Option(help="stock-drop, route-deviation or all")] = "all",
    bank: BankOpt = None,
    prefix: Annotated[str, typer.Option(help="topic prefix")] = PREFIX,
    as_json: JsonOpt = False,
) -> None:
    """Drive the registered, bound devices for the demo: pledged stock drains to 60 %
    (a margin call), trackers leave their route; each sequence has a duplicate, an
    out-of-order, a malformed and a late message."""
    _broker(broker)
    try:
        messages = _plan(bank, scenario)
    except ChainfinError as exc:
        fail(exc, as_json)
    try:
        sent = mqtt.publish(broker, [(f"{prefix}/{serial}", m) for serial, m in messages])
    except (OSError, TimeoutError) as exc:
        err.print(f"[red]error[/red]: {broker}: {exc}")
        raise typer.Exit(1) from None
    serials = sorted({serial for serial, _ in messages})
    if as_json:
        print_json({"published": sent, "devices": serials})
    else:
        out.print(f"published {sent} messages for {len(serials)} device(s)")


def _plan(bank: str | None, scenario: str) -> list[tuple[str, bytes]]:
    with operator_session() as session:
        actor = bank_actor(bank)(session) if bank else SYSTEM
        return iot.simulation(session, actor, scenario)
