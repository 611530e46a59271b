"""IoT telemetry, pure: what a message must look like, how a reading is judged against
what the device sent before (duplicate, out of order, late), the geodesy of a route
corridor, units of pledged goods, and the demo's message sequences.

A message is one JSON object::

    {"device": "WS-0001", "seq": 123, "at": "2026-11-26T10:00:00+08:00",
     "kind": "weight", "value": "18.5", "unit": "t"}

``gps`` carries ``lat`` and ``lon`` instead of ``value``/``unit``; ``temperature`` carries
``celsius``. Quantities are exact decimals (strings, or JSON numbers read as decimals);
nothing is ever a float on the way to money.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from itertools import pairwise
from typing import Any

KINDS = ("weight", "rfid", "gps", "temperature")
MAX_MESSAGE_BYTES = 4096
LATENESS = timedelta(hours=1)  # measured this long before receipt: late
MAX_CLOCK_SKEW = timedelta(minutes=5)  # measured this far after receipt: a broken clock
MAX_SEQ = 2**63 - 1
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
MAX_CORRIDOR_KM = Decimal(500)
MAX_WAYPOINTS = 200
DEFAULT_SILENT_MINUTES = 60

# Units a reading may come in, with their factor to the base unit of their dimension.
MASS_UNITS: dict[str, Decimal] = {"g": Decimal("0.001"), "kg": Decimal(1), "t": Decimal(1000)}
COUNT_UNITS: dict[str, Decimal] = {"pcs": Decimal(1), "each": Decimal(1), "pair": Decimal(2)}

_COMMON = frozenset({"device", "seq", "at", "kind"})
_FIELDS: dict[str, frozenset[str]] = {
    "weight": _COMMON | {"value", "unit"},
    "rfid": _COMMON | {"value", "unit"},
    "gps": _COMMON | {"lat", "lon"},
    "temperature": _COMMON | {"celsius"},
}
_SERIAL_FORBIDDEN = frozenset("/+#")


class BadMessage(ValueError):
    """A message that cannot be used, with the field and the precise reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Telemetry:
    """A valid message, normalised: ``at`` in UTC, quantities exact."""

    device: str
    seq: int
    at: datetime
    kind: str
    value: Decimal | None = None  # weight, RFID count, temperature (°C)
    unit: str | None = None  # weight and RFID; "C" for temperature
    lat: Decimal | None = None
    lon: Decimal | None = None

    def normalised(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "device": self.device,
            "seq": self.seq,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "kind": self.kind,
        }
        for name in ("value", "unit", "lat", "lon"):
            v = getattr(self, name)
            if v is not None:
                out[name] = str(v)
        return out

    def digest(self) -> str:
        """SHA-256 of the normalised message as sorted, compact JSON."""
        body = json.dumps(self.normalised(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


# ---------------------------------------------------------------------------- parsing


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BadMessage(key, "appears twice in the message")
        out[key] = value
    return out


def loads(raw: bytes, *, limit: int = MAX_MESSAGE_BYTES) -> Any:
    """JSON with decimals for every number with a fraction and no duplicate keys."""
    if len(raw) > limit:
        raise BadMessage("message", f"is {len(raw)} bytes; the limit is {limit}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("message", "is not UTF-8") from None
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise BadMessage("message", f"is not JSON ({exc.msg} at {exc.pos})") from None
    except RecursionError:
        raise BadMessage("message", "is nested too deeply") from None


def parse(raw: bytes, *, received_at: datetime) -> Telemetry:
    return parse_obj(loads(raw), received_at=received_at)


def check_serial(value: object, field: str = "device") -> str:
    if not isinstance(value, str):
        raise BadMessage(field, "must be a string (the device's serial)")
    if not 1 <= len(value) <= 64:
        raise BadMessage(field, "must be 1 to 64 characters")
    if not value.isprintable() or value != value.strip() or " " in value:
        raise BadMessage(field, "must be printable, without spaces")
    if _SERIAL_FORBIDDEN & set(value):
        raise BadMessage(field, "must not contain '/', '+' or '#' (it is an MQTT topic level)")
    return value


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise BadMessage(field, "must be a decimal number or a decimal string")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise BadMessage(field, f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise BadMessage(field, "must be finite")
    if abs(number) >= Decimal("1e15") or number.as_tuple().exponent < -9:  # type: ignore[operator]
        raise BadMessage(field, "is out of range (below 10^15, at most 9 decimal places)")
    return number


def _bounded(
    value: object, field: str, low: Decimal, high: Decimal, *, floats: bool = False
) -> Decimal:
    """A decimal within [low, high]; ``floats`` accepts binary floats too (coordinates,
    where a float's shortest repr is exact enough), as the decimal of their repr."""
    if floats and isinstance(value, float):
        value = repr(value)
    number = _decimal(value, field)
    if not low <= number <= high:
        raise BadMessage(field, f"must be between {low} and {high}; got {number}")
    return number


def parse_at(value: object, *, received_at: datetime, field: str = "at") -> datetime:
    if not isinstance(value, str):
        raise BadMessage(field, "must be an ISO 8601 timestamp string")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise BadMessage(field, f"{value!r} is not an ISO 8601 timestamp") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise BadMessage(field, "must carry a time zone (e.g. +08:00 or Z)")
    at = at.astimezone(UTC)
    if at - received_at > MAX_CLOCK_SKEW:
        raise BadMessage(
            field, f"is {at - received_at} after the message was received: the device clock is off"
        )
    return at


def parse_obj(obj: object, *, received_at: datetime) -> Telemetry:
    """Validate one decoded message; :class:`BadMessage` names the first problem."""
    if not isinstance(obj, Mapping):
        raise BadMessage("message", "must be a JSON object")
    device = check_serial(obj.get("device"))
    kind = obj.get("kind")
    if kind not in KINDS:
        raise BadMessage("kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
    extra = sorted(set(obj) - _FIELDS[str(kind)])
    if extra:
        raise BadMessage(extra[0], f"is not a field of a {kind} message")
    seq = obj.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise BadMessage("seq", "must be an integer")
    if not 0 <= seq <= MAX_SEQ:
        raise BadMessage("seq", f"must be 0 to {MAX_SEQ}")
    if "at" not in obj:
        raise BadMessage("at", "is required")
    at = parse_at(obj["at"], received_at=received_at)
    if kind in ("weight", "rfid"):
        if "value" not in obj:
            raise BadMessage("value", f"is required for a {kind} reading")
        value = _decimal(obj["value"], "value")
        if value < 0:
            raise BadMessage("value", "must not be negative")
        default = "pcs" if kind == "rfid" else None
        unit = obj.get("unit", default)
        units = MASS_UNITS if kind == "weight" else COUNT_UNITS
        if unit not in units:
            raise BadMessage("unit", f"must be one of {', '.join(units)}; got {unit!r}")
        if kind == "rfid" and value != value.to_integral_value():
            raise BadMessage("value", "an RFID count is a whole number")
        return Telemetry(device, seq, at, str(kind), value=value, unit=str(unit))
    if kind == "gps":
        for name in ("lat", "lon"):
            if name not in obj:
                raise BadMessage(name, "is required for a gps reading")
        lat = _bounded(obj["lat"], "lat", Decimal(-90), Decimal(90), floats=True)
        lon = _bounded(obj["lon"], "lon", Decimal(-180), Decimal(180), floats=True)
        return Telemetry(device, seq, at, "gps", lat=lat, lon=lon)
    if "celsius" not in obj:
        raise BadMessage("celsius", "is required for a temperature reading")
    celsius = _bounded(obj["celsius"], "celsius", Decimal(-100), Decimal(200))
    return Telemetry(device, seq, at, "temperature", value=celsius, unit="C")


# ---------------------------------------------------------------------------- rules


class Outcome(StrEnum):
    APPLIED = "applied"  # stored; now the device's current reading
    DUPLICATE = "duplicate"  # this device's seq was seen before: ignored
    OUT_OF_ORDER = "out_of_order"  # stored; older than the current reading, state kept
    LATE = "late"  # stored; measured beyond the lateness window, never alerts
    MALFORMED = "malformed"  # dead letter
    UNKNOWN_DEVICE = "unknown_device"  # dead letter
    UNBOUND = "unbound"  # dead letter: the device is retired or bound to nothing
    ERROR = "error"  # an unexpected failure processing it: dead letter, logged


STORED = frozenset({Outcome.APPLIED, Outcome.OUT_OF_ORDER, Outcome.LATE})


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    moves_state: bool  # becomes the device's current reading (and the collateral's)
    may_alert: bool  # may raise an alert for the condition it shows


def judge(
    seq: int,
    at: datetime,
    received_at: datetime,
    *,
    seen: bool,
    last_seq: int | None,
    last_at: datetime | None,
    lateness: timedelta = LATENESS,
) -> Verdict:
    """Where a reading stands against what the device sent before.

    * seen (same device and seq) → duplicate: nothing changes.
    * The current state follows the latest ``at`` (ties broken by seq): a reading moves it
      only if it is newer than the current one; it never moves backwards.
    * late (measured more than ``lateness`` before receipt) → stored; may still become the
      current reading if it is the newest there is, but never raises an alert: the condition
      it shows is in the past.
    * out of order (seq below the last applied, or older than the current reading) → stored.
    """
    if seen:
        return Verdict(Outcome.DUPLICATE, False, False)
    newest = (
        last_at is None or at > last_at or (at == last_at and (last_seq is None or seq > last_seq))
    )
    late = received_at - at > lateness
    if late:
        return Verdict(Outcome.LATE, newest, False)
    if not newest or (last_seq is not None and seq < last_seq):
        return Verdict(Outcome.OUT_OF_ORDER, newest, newest)
    return Verdict(Outcome.APPLIED, True, True)


@dataclass
class Counters:
    """What a listener (or one HTTP request) did with the messages it received. Every
    message counts once in ``received`` and once in exactly one outcome."""

    received: int = 0
    applied: int = 0
    duplicate: int = 0
    out_of_order: int = 0
    late: int = 0
    malformed: int = 0
    unknown_device: int = 0
    unbound: int = 0
    error: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.received += 1
            setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {name: getattr(self, name) for name in ("received", *(o.value for o in Outcome))}

    def line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.as_dict().items())


# ---------------------------------------------------------------------------- units


def convert(quantity: Decimal, unit: str, to: str) -> Decimal | None:
    """``quantity`` in ``unit`` expressed in ``to``; None across dimensions or for units
    this does not know (then they must be the same unit)."""
    if unit == to:
        return quantity
    for table in (MASS_UNITS, COUNT_UNITS):
        if unit in table and to in table:
            return (quantity * table[unit] / table[to]).normalize()
    return None


def compatible(unit: str, to: str) -> bool:
    return convert(Decimal(1), unit, to) is not None


def ltv(outstanding_minor: int, value_minor: int) -> Decimal:
    """Loan to value; infinite when the goods are worth nothing."""
    if value_minor <= 0:
        return Decimal("Infinity")
    return Decimal(outstanding_minor) / Decimal(value_minor)


def out_of_range(celsius: Decimal, thresholds: Mapping[str, Any]) -> str | None:
    """Why a temperature breaks the device's range, or None."""
    low, high = thresholds.get("min_celsius"), thresholds.get("max_celsius")
    if low is not None and celsius < Decimal(str(low)):
        return f"{celsius} °C is below the minimum {low} °C"
    if high is not None and celsius > Decimal(str(high)):
        return f"{celsius} °C is above the maximum {high} °C"
    return None


def check_thresholds(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Thresholds as stored: ``min_celsius``/``max_celsius`` decimal strings and
    ``silent_after_minutes``; raises BadMessage naming the field."""
    known = {"min_celsius", "max_celsius", "silent_after_minutes"}
    extra = sorted(set(raw) - known)
    if extra:
        raise BadMessage(f"thresholds.{extra[0]}", f"is not one of {', '.join(sorted(known))}")
    out: dict[str, Any] = {}
    for name in ("min_celsius", "max_celsius"):
        if raw.get(name) is not None:
            value = _bounded(raw[name], f"thresholds.{name}", Decimal(-100), Decimal(200))
            out[name] = str(value)
    low, high = out.get("min_celsius"), out.get("max_celsius")
    if low is not None and high is not None and Decimal(low) >= Decimal(high):
        raise BadMessage("thresholds.max_celsius", "must be above min_celsius")
    minutes = raw.get("silent_after_minutes")
    if minutes is not None:
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 10080:
            raise BadMessage("thresholds.silent_after_minutes", "must be 1 to 10080 (a week)")
        out["silent_after_minutes"] = minutes
    return out


# ---------------------------------------------------------------------------- geodesy

Point = tuple[float, float]  # (lat, lon) in degrees


def _rad(p: Point) -> tuple[float, float]:
    return math.radians(p[0]), math.radians(p[1])


def _angle(a: Point, b: Point) -> float:
    """Central angle between two points (haversine), radians."""
    (la1, lo1), (la2, lo2) = _rad(a), _rad(b)
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * math.asin(min(1.0, math.sqrt(h)))


def haversine_km(a: Point, b: Point) -> float:
    return EARTH_RADIUS_KM * _angle(a, b)


def _bearing(a: Point, b: Point) -> float:
    (la1, lo1), (la2, lo2) = _rad(a), _rad(b)
    y = math.sin(lo2 - lo1) * math.cos(la2)
    x = math.cos(la1) * math.sin(la2) - math.sin(la1) * math.cos(la2) * math.cos(lo2 - lo1)
    return math.atan2(y, x)


def segment_km(p: Point, a: Point, b: Point) -> float:
    """Shortest great-circle distance from ``p`` to the arc from ``a`` to ``b``: the
    cross-track distance when the foot of the perpendicular falls on the arc, else the
    distance to the nearer end."""
    d_ap = _angle(a, p)
    d_ab = _angle(a, b)
    if d_ab == 0.0 or d_ap == 0.0:
        return EARTH_RADIUS_KM * d_ap
    delta = _bearing(a, p) - _bearing(a, b)
    cross = math.asin(max(-1.0, min(1.0, math.sin(d_ap) * math.sin(delta))))
    along = math.acos(max(-1.0, min(1.0, math.cos(d_ap) / math.cos(cross))))
    if math.cos(delta) < 0 or along > d_ab:  # the foot falls before a or beyond b
        return EARTH_RADIUS_KM * min(d_ap, _angle(b, p))
    return EARTH_RADIUS_KM * abs(cross)


def route_km(p: Point, waypoints: Sequence[Point]) -> float:
    """Distance from ``p`` to the polyline through ``waypoints``."""
    if len(waypoints) == 1:
        return haversine_km(p, waypoints[0])
    return min(segment_km(p, a, b) for a, b in pairwise(waypoints))


def check_corridor(waypoints: object, max_km: object) -> dict[str, Any]:
    """A route corridor as stored: ``{"waypoints": [[lat, lon], ...], "max_km": "5"}``."""
    if not isinstance(waypoints, Sequence) or isinstance(waypoints, str) or len(waypoints) < 2:
        raise BadMessage("waypoints", "must be a list of at least two [lat, lon] pairs")
    if len(waypoints) > MAX_WAYPOINTS:
        raise BadMessage("waypoints", f"at most {MAX_WAYPOINTS} points")
    points = []
    for n, pair in enumerate(waypoints):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise BadMessage(f"waypoints[{n}]", "must be a [lat, lon] pair")
        lat = _bounded(pair[0], f"waypoints[{n}][0]", Decimal(-90), Decimal(90), floats=True)
        lon = _bounded(pair[1], f"waypoints[{n}][1]", Decimal(-180), Decimal(180), floats=True)
        points.append([str(lat), str(lon)])
    km = _decimal(max_km, "max_km")
    if not Decimal(0) < km <= MAX_CORRIDOR_KM:
        raise BadMessage("max_km", f"must be above 0 and at most {MAX_CORRIDOR_KM}")
    return {"waypoints": points, "max_km": str(km)}


def corridor_points(corridor: Mapping[str, Any]) -> list[Point]:
    return [(float(a), float(b)) for a, b in corridor["waypoints"]]


def off_route(lat: Decimal, lon: Decimal, corridor: Mapping[str, Any]) -> float | None:
    """How far outside the corridor a position is (km from the route), or None inside."""
    km = route_km((float(lat), float(lon)), corridor_points(corridor))
    return km if km > float(corridor["max_km"]) else None


# ---------------------------------------------------------------------------- demo sequences


def _message(serial: str, seq: int, at: datetime, kind: str, **fields: object) -> bytes:
    body: dict[str, object] = {"device": serial, "seq": seq, "at": at.isoformat(), "kind": kind}
    body.update(fields)
    return json.dumps(body, default=str).encode()


def stock_drop(
    serial: str, kind: str, unit: str, pledged: Decimal, *, last_seq: int, now: datetime
) -> list[bytes]:
    """A pledged stock drained over the last minutes (100 %, 100 %, 75 %, 90 %, 60 % of
    what was pledged), sent with a duplicate, one reading out of order (the 90 % one, sent
    after the 75 % one it preceded), a malformed message and a late one."""
    s = last_seq
    start = now - timedelta(minutes=10)
    shares = [Decimal(1), Decimal(1), Decimal("0.9"), Decimal("0.75"), Decimal("0.6")]
    quantities = [
        (pledged * share).quantize(Decimal(1) if kind == "rfid" else Decimal("0.001"))
        for share in shares
    ]

    def reading(n: int) -> bytes:
        return _message(
            serial, s + n + 1, start + timedelta(minutes=2 * n), kind,
            value=str(quantities[n]), unit=unit,
        )  # fmt: skip

    return [
        reading(0),
        reading(1),
        reading(1),  # duplicate
        reading(3),
        reading(2),  # out of order: measured before the one just sent
        _message(serial, s + 6, now, kind, value="plenty", unit=unit),  # malformed
        reading(4),
        # late: measured three hours ago, when the stock was all there
        _message(serial, s + 7, now - timedelta(hours=3), kind, value=str(pledged), unit=unit),
    ]


def route_deviation(
    serial: str, waypoints: Sequence[Point], max_km: Decimal, *, last_seq: int, now: datetime
) -> list[bytes]:
    """A truck along its route (start, a quarter, halfway) that then leaves the corridor by
    three times its width, with a duplicate, a position out of order, a malformed one (a
    latitude of 123) and a late one."""
    s = last_seq
    start = now - timedelta(minutes=10)

    def along(share: float) -> Point:
        a, b = waypoints[0], waypoints[-1]
        return (a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share)

    def fix(n: int, p: Point) -> bytes:
        at = start + timedelta(minutes=2 * n)
        return _message(serial, s + n + 1, at, "gps", lat=round(p[0], 6), lon=round(p[1], 6))

    mid = along(0.5)
    offset_deg = float(max_km) * 3 / (math.pi / 180 * EARTH_RADIUS_KM)
    away = (mid[0] + offset_deg, mid[1])
    return [
        fix(0, along(0.0)),
        fix(2, along(0.5)),
        fix(1, along(0.25)),  # out of order
        fix(2, along(0.5)),  # duplicate
        _message(serial, s + 5, now, "gps", lat=123, lon=mid[1]),  # malformed
        fix(3, away),  # off the route
        _message(
            serial,
            s + 6,
            now - timedelta(hours=2),
            "gps",
            lat=round(away[0], 6),
            lon=round(away[1], 6),
        ),
    ]
