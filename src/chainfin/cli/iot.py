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

from chainfin.cli.common import (
    Col,
    CursorOpt,
    LimitOpt,
    database_url,
    err,
    fail,
    fields,
    group,
    moment,
    more,
    name_of,
    operator_session,
    out,
    page_of,
    print_json,
    require_database,
    table,
)
from chainfin.cli.lending import bank_actor, run_as
from chainfin.domain.access import SYSTEM
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed

app = group("IoT devices on pledges and shipments, telemetry over MQTT")

BankReq = Annotated[str, typer.Option("--bank", help="act as this bank's staff (code)")]
BankOpt = Annotated[
    str | None, typer.Option("--bank", help="this bank's devices only (default: all)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
BrokerOpt = Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT or mqtts://…")]
PREFIX = "chainfin/telemetry"


def _where(d: dict[str, Any]) -> str:
    binding = d["binding"] or {}
    if binding.get("kind") == "pledge":
        return f"pledge {binding['loan_id']} / {binding['item']}"
    if binding.get("kind") == "shipment":
        return f"shipment {binding['waybill_id']}"
    return "unbound"


def _show_device(d: dict[str, Any]) -> None:
    fields(
        [
            ("device", f"{d['serial']} ({d['id']})"),
            ("kind", f"{d['kind']}" + (f", in {d['unit']}" if d["unit"] else "")),
            ("state", d["state"]),
            ("bank", name_of(d["bank_id"])),
            ("bound to", _where(d)),
            ("last", f"seq {d['last_seq']} measured {moment(d['last_at'])} UTC"
             if d["last_seq"] is not None else "no reading yet"),
        ]
    )  # fmt: skip
    if d.get("token"):
        out.print(f"HTTP token (shown once): {d['token']}")


def _show_devices(body: dict[str, Any]) -> None:
    table(
        "devices",
        [
            Col("serial", "code"),
            Col("kind"),
            Col("state"),
            Col("bound to"),
            Col("last reading", "time", drop=1),
            Col("id", "id", drop=2),
        ],
        [
            [d["serial"], d["kind"], d["state"], _where(d), d["last_at"], d["id"]]
            for d in body["items"]
        ],
        empty="no devices",
    )
    more(body)


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
    from chainfin.resources.iot import DeviceOut, DeviceRegisteredOut
    from chainfin.services import iot

    thresholds: dict[str, Any] = {
        k: v
        for k, v in (
            ("min_celsius", min_celsius),
            ("max_celsius", max_celsius),
            ("silent_after_minutes", silent_after),
        )
        if v is not None
    }

    def work(s: Any, a: Any) -> DeviceRegisteredOut:
        device, token = iot.register(
            s, a, serial=serial, kind=kind, unit=unit, thresholds=thresholds
        )
        return DeviceRegisteredOut(**DeviceOut.build(device).model_dump(), token=token)

    run_as(as_json, bank_actor(bank), work, _show_device)


def _waypoints(text: str) -> list[list[str]]:
    points = []
    for n, pair in enumerate(p for p in text.split(";") if p.strip()):
        parts = [x.strip() for x in pair.split(",")]
        if len(parts) != 2:
            raise ValidationFailed(
                [FieldError(f"--waypoints[{n}]", f"{pair!r} is not LAT,LON")],
                code="waypoints_invalid",
            )
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
    from chainfin.resources.iot import DeviceOut
    from chainfin.services import iot

    def work(s: Any, a: Any) -> Any:
        if waybill:
            row = iot.bind_shipment(
                s, a, device, waybill_id=waybill, waypoints=_waypoints(waypoints), max_km=max_km
            )
        else:
            if not loan or not item:
                raise ValidationFailed(
                    [FieldError("--loan/--item", "give a loan and an item, or a --waybill")],
                    code="option_choice_required",
                )
            row = iot.bind_pledge(s, a, device, loan_id=loan, item=item)
        return DeviceOut.build(row)

    run_as(as_json, bank_actor(bank), work, _show_device)


@app.command("retire")
def retire_cmd(
    device: Annotated[str, typer.Argument(help="device id or serial")],
    bank: BankReq,
    reason: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    """Retire a device: its messages are dead letters from now on."""
    from chainfin.resources.iot import DeviceOut
    from chainfin.services import iot

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: DeviceOut.build(iot.retire(s, a, device, reason=reason)),
        _show_device,
    )


@app.command("devices")
def devices_cmd(
    bank: BankOpt = None,
    state: Annotated[str | None, typer.Option(help="active or retired")] = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List devices."""
    from chainfin.resources.iot import DeviceOut
    from chainfin.services import iot

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: page_of(
            iot.devices(s, a, state=state, cursor=cursor, limit=limit), DeviceOut.build
        ),
        _show_devices,
    )


def _show_readings(body: dict[str, Any]) -> None:
    table(
        "readings (latest measured first, UTC)",
        [
            Col("seq", "number"),
            Col("measured", "time"),
            Col("received", "time", drop=2),
            Col("status"),
            Col("value", "number"),
            Col("position", drop=1),
        ],
        [
            [
                r["seq"],
                r["at"],
                r["received_at"],
                r["status"],
                f"{r['value']} {r['unit'] or ''}".strip() if r["value"] is not None else "",
                f"{r['lat']}, {r['lon']}" if r["lat"] is not None else "",
            ]
            for r in body["items"]
        ],
        empty="no readings",
    )
    more(body)


@app.command("readings")
def readings_cmd(
    device: Annotated[str, typer.Argument(help="device id or serial")],
    bank: BankOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A device's readings."""
    from chainfin.resources.iot import ReadingOut
    from chainfin.services import iot

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: page_of(
            iot.readings(s, a, device, cursor=cursor, limit=limit), ReadingOut.build
        ),
        _show_readings,
    )


@app.command("dead-letters")
def dead_letters_cmd(
    bank: BankOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Messages that could not be used, and why."""
    from chainfin.resources.iot import DeadLetterOut
    from chainfin.services import iot

    def show(body: dict[str, Any]) -> None:
        table(
            "dead letters (UTC)",
            [
                Col("received", "time"),
                Col("reason", "code"),
                Col("device", "code"),
                Col("why"),
            ],
            [
                [r["received_at"], r["reason_code"], r["device"] or "?", r["reason"]]
                for r in body["items"]
            ],
            empty="no dead letters",
        )
        more(body)

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: page_of(
            iot.dead_letters(s, a, cursor=cursor, limit=limit), DeadLetterOut.build
        ),
        show,
    )


@app.command("sweep")
def sweep_cmd(bank: BankOpt = None, as_json: JsonOpt = False) -> None:
    """Raise device_silent for bound devices not heard from in time."""
    from chainfin.services import iot

    run_as(
        as_json,
        bank_actor(bank),
        lambda s, a: {"device_silent": iot.sweep_silent(s, a)},
        lambda b: out.print(f"{b['device_silent']} silent device alert(s) raised"),
    )


def _broker(url: str) -> None:
    from chainfin.adapters import mqtt

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
    from chainfin.adapters import mqtt
    from chainfin.adapters.db import crypto
    from chainfin.adapters.db.crypto import FieldCipher
    from chainfin.adapters.db.engine import make_engine, make_session_factory, transaction
    from chainfin.config import get_settings
    from chainfin.services import iot

    _broker(broker)
    require_database(database_url())
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
    from chainfin.adapters import mqtt

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
    from chainfin.services import iot

    with operator_session() as session:
        actor = bank_actor(bank)(session) if bank else SYSTEM
        return iot.simulation(session, actor, scenario)
