"""IoT telemetry rules, pure: payload validation, duplicate / out-of-order / late, the
route corridor's geodesy against hand-computed distances, units and loan-to-value."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chainfin.domain import iot
from chainfin.domain.iot import BadMessage, Counters, Outcome

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
GOOD = {"device": "WS-1", "seq": 7, "at": "2026-11-26T09:58:00+08:00", "kind": "weight"}
KM_PER_DEGREE = math.pi / 180 * iot.EARTH_RADIUS_KM  # 111.1951 km on the mean sphere


def raw(**fields: object) -> bytes:
    body = {**GOOD, "value": "18.5", "unit": "t"}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def test_a_weight_reading_is_exact_and_in_utc() -> None:
    msg = iot.parse(raw(), received_at=NOW)
    assert msg.value == Decimal("18.5")
    assert msg.unit == "t"
    assert msg.at == datetime(2026, 11, 26, 1, 58, tzinfo=UTC)
    assert msg.normalised()["at"] == "2026-11-26T01:58:00.000000Z"
    assert len(msg.digest()) == 64


def test_json_numbers_are_read_as_decimals_not_floats() -> None:
    msg = iot.parse(b'{"device":"WS-1","seq":1,"at":"2026-11-26T01:59:00Z","kind":"weight",'
                    b'"value":0.1,"unit":"kg"}', received_at=NOW)  # fmt: skip
    assert msg.value == Decimal("0.1")


def test_gps_and_temperature_readings() -> None:
    gps = iot.parse_obj(
        {**GOOD, "kind": "gps", "lat": Decimal("31.2989"), "lon": "120.5853"}, received_at=NOW
    )
    assert (gps.lat, gps.lon) == (Decimal("31.2989"), Decimal("120.5853"))
    probe = iot.parse_obj({**GOOD, "kind": "temperature", "celsius": "-18.5"}, received_at=NOW)
    assert (probe.value, probe.unit) == (Decimal("-18.5"), "C")
    rfid = iot.parse_obj({**GOOD, "kind": "rfid", "value": 120}, received_at=NOW)
    assert (rfid.value, rfid.unit) == (Decimal(120), "pcs")


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        (b"not json", "message", "is not JSON"),
        (b"\xff\xfe", "message", "is not UTF-8"),
        (b"[1, 2]", "message", "must be a JSON object"),
        (b"x" * 5000, "message", "the limit is 4096"),
        (b'{"device":"a","device":"b"}', "device", "appears twice"),
        (raw(device=None), "device", "must be a string"),
        (raw(device="a/b"), "device", "MQTT topic level"),
        (raw(device="a b"), "device", "without spaces"),
        (raw(kind="humidity"), "kind", "must be one of weight, rfid, gps, temperature"),
        (raw(seq="7"), "seq", "must be an integer"),
        (raw(seq=True), "seq", "must be an integer"),
        (raw(seq=-1), "seq", "must be 0 to"),
        (raw(at=None), "at", "is required"),
        (raw(at="yesterday"), "at", "is not an ISO 8601 timestamp"),
        (raw(at="2026-11-26T09:58:00"), "at", "must carry a time zone"),
        (raw(at="2026-11-26T12:00:00+08:00"), "at", "the device clock is off"),
        (raw(value=None), "value", "is required for a weight reading"),
        (raw(value="lots"), "value", "'lots' is not a decimal number"),
        (raw(value="NaN"), "value", "must be finite"),
        (raw(value="-1"), "value", "must not be negative"),
        (raw(value=1.5), "value", "must be a decimal number"),  # float only via json.dumps
        (raw(unit="lb"), "unit", "must be one of g, kg, t"),
        (raw(colour="red"), "colour", "is not a field of a weight message"),
        (raw(kind="rfid", unit=None, value="1.5"), "value", "whole number"),
        (raw(kind="gps", value=None, unit=None, lat=123, lon=0), "lat", "between -90 and 90"),
        (raw(kind="gps", value=None, unit=None, lat=1), "lon", "is required"),
        (raw(kind="temperature", value=None, unit=None), "celsius", "is required"),
    ],
)
def test_malformed_messages_name_the_field_and_the_reason(
    payload: bytes, field: str, reason: str
) -> None:
    if payload == raw(value=1.5):  # json.dumps wrote 1.5, which loads as a Decimal: valid
        assert iot.parse(payload, received_at=NOW).value == Decimal("1.5")
        return
    with pytest.raises(BadMessage) as caught:
        iot.parse(payload, received_at=NOW)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_a_float_object_is_refused_when_handed_over_decoded() -> None:
    with pytest.raises(BadMessage, match="decimal number"):
        iot.parse_obj({**GOOD, "value": 18.5, "unit": "t"}, received_at=NOW)


# ---------------------------------------------------------------------------- rules

T0 = NOW - timedelta(minutes=10)


@pytest.mark.parametrize(
    ("seq", "at", "seen", "last_seq", "last_at", "expected"),
    [
        (1, T0, False, None, None, (Outcome.APPLIED, True, True)),  # the first reading
        (5, T0, False, 4, T0 - timedelta(minutes=1), (Outcome.APPLIED, True, True)),
        (5, T0, True, 4, T0, (Outcome.DUPLICATE, False, False)),  # seen: nothing at all
        (3, T0 - timedelta(minutes=2), False, 4, T0, (Outcome.OUT_OF_ORDER, False, False)),
        # a higher seq measured earlier (clock set back): stored, state kept
        (6, T0 - timedelta(minutes=2), False, 4, T0, (Outcome.OUT_OF_ORDER, False, False)),
        # measured two hours ago and older than the current: late, history only
        (6, NOW - timedelta(hours=2), False, 4, T0, (Outcome.LATE, False, False)),
        # late but still the newest there is (the device was offline): state, no alert
        (6, NOW - timedelta(hours=2), False, 4, NOW - timedelta(hours=3),
         (Outcome.LATE, True, False)),
        (5, T0, False, 5 - 1, T0, (Outcome.APPLIED, True, True)),  # same at, higher seq
    ],
)  # fmt: skip
def test_judge(
    seq: int,
    at: datetime,
    seen: bool,
    last_seq: int | None,
    last_at: datetime | None,
    expected: tuple[Outcome, bool, bool],
) -> None:
    verdict = iot.judge(seq, at, NOW, seen=seen, last_seq=last_seq, last_at=last_at)
    assert (verdict.outcome, verdict.moves_state, verdict.may_alert) == expected


def test_the_lateness_window_is_a_parameter() -> None:
    at = NOW - timedelta(minutes=20)
    kw = {"seen": False, "last_seq": None, "last_at": None}
    assert iot.judge(1, at, NOW, **kw).outcome is Outcome.APPLIED  # type: ignore[arg-type]
    short = iot.judge(1, at, NOW, lateness=timedelta(minutes=15), **kw)  # type: ignore[arg-type]
    assert short.outcome is Outcome.LATE


def test_counters_count_every_message_once() -> None:
    c = Counters()
    for o in (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.MALFORMED, Outcome.APPLIED):
        c.add(o)
    d = c.as_dict()
    assert d["received"] == 4
    assert (d["applied"], d["duplicate"], d["malformed"], d["late"]) == (2, 1, 1, 0)
    assert d["received"] == sum(v for k, v in d.items() if k != "received")


# ---------------------------------------------------------------------------- geodesy


def test_haversine_on_the_equator_and_along_a_meridian() -> None:
    assert iot.haversine_km((0, 0), (0, 1)) == pytest.approx(111.1951, abs=1e-3)
    assert iot.haversine_km((0, 0), (1, 0)) == pytest.approx(KM_PER_DEGREE, abs=1e-9)
    assert iot.haversine_km((0, 0), (0, 180)) == pytest.approx(math.pi * iot.EARTH_RADIUS_KM)


def test_haversine_shanghai_to_beijing() -> None:
    # People's Square (31.2304 N, 121.4737 E) to Tiananmen (39.9042 N, 116.4074 E): 1067.3 km
    # on the 6371.0088 km sphere (hand-computed with the haversine formula).
    km = iot.haversine_km((31.2304, 121.4737), (39.9042, 116.4074))
    assert km == pytest.approx(1067.3, abs=0.5)


def test_distance_to_a_segment_is_cross_track_inside_and_to_the_end_outside() -> None:
    route = [(0.0, 0.0), (0.0, 10.0)]  # along the equator
    # one degree north of the middle: the cross-track distance is exactly one degree of arc
    assert iot.route_km((1.0, 5.0), route) == pytest.approx(KM_PER_DEGREE, rel=1e-9)
    assert iot.route_km((-0.5, 3.0), route) == pytest.approx(KM_PER_DEGREE / 2, rel=1e-9)
    # beyond the end: the distance to the end point, 2 degrees along the equator
    assert iot.route_km((0.0, 12.0), route) == pytest.approx(2 * KM_PER_DEGREE, rel=1e-9)
    # before the start, off to the side: to the start point
    before = iot.route_km((1.0, -1.0), route)
    assert before == pytest.approx(iot.haversine_km((1.0, -1.0), (0.0, 0.0)))
    assert iot.route_km((0.0, 4.0), route) == pytest.approx(0.0, abs=1e-9)


def test_a_polyline_takes_the_nearest_leg() -> None:
    # an L: east along the equator to 10 E, then north along 10 E to 10 N
    route = [(0.0, 0.0), (0.0, 10.0), (10.0, 10.0)]
    # 5 N, 11 E: one degree of longitude east of the northbound leg, at 5 N: the
    # cross-track distance is asin(sin(1°)·cos(5°)) ≈ 0.99619° of arc = 110.772 km
    expected = math.degrees(math.asin(math.sin(math.radians(1)) * math.cos(math.radians(5))))
    assert expected == pytest.approx(0.99619, abs=1e-5)
    assert iot.route_km((5.0, 11.0), route) == pytest.approx(expected * KM_PER_DEGREE, rel=1e-6)


def test_corridor() -> None:
    corridor = iot.check_corridor([[31.30, 120.59], ["31.23", "121.47"]], "5")
    assert corridor == {"waypoints": [["31.3", "120.59"], ["31.23", "121.47"]], "max_km": "5"}
    assert iot.off_route(Decimal("31.27"), Decimal("121.00"), corridor) is None
    km = iot.off_route(Decimal("31.50"), Decimal("121.00"), corridor)
    assert km is not None
    assert 20 < km < 30
    with pytest.raises(BadMessage, match="at least two"):
        iot.check_corridor([[1, 2]], 5)
    with pytest.raises(BadMessage) as caught:
        iot.check_corridor([[1, 2], [91, 2]], 5)
    assert caught.value.field == "waypoints[1][0]"
    with pytest.raises(BadMessage, match="above 0"):
        iot.check_corridor([[1, 2], [3, 4]], 0)


# ---------------------------------------------------------------------------- goods


def test_units_convert_within_a_dimension_only() -> None:
    assert iot.convert(Decimal("18500"), "kg", "t") == Decimal("18.5")
    assert iot.convert(Decimal("1.5"), "t", "kg") == Decimal("1500")
    assert iot.convert(Decimal(3), "pair", "pcs") == Decimal(6)
    assert iot.convert(Decimal(1), "kg", "pcs") is None
    assert iot.convert(Decimal(1), "m3", "m3") == Decimal(1)
    assert not iot.compatible("t", "m3")


def test_ltv() -> None:
    assert iot.ltv(1_100_000_00, 1_600_000_00) == Decimal("0.6875")
    assert iot.ltv(1, 0) == Decimal("Infinity")


def test_temperature_thresholds() -> None:
    limits = iot.check_thresholds({"min_celsius": 2, "max_celsius": "8.0"})
    assert limits == {"min_celsius": "2", "max_celsius": "8.0"}
    assert iot.out_of_range(Decimal("8.1"), limits) == "8.1 °C is above the maximum 8.0 °C"
    assert iot.out_of_range(Decimal("1.9"), limits) == "1.9 °C is below the minimum 2 °C"
    assert iot.out_of_range(Decimal(5), limits) is None
    with pytest.raises(BadMessage, match="above min_celsius"):
        iot.check_thresholds({"min_celsius": 8, "max_celsius": 2})
    with pytest.raises(BadMessage, match="is not one of"):
        iot.check_thresholds({"humidity": 1})


def test_the_demo_sequences_carry_every_kind_of_trouble() -> None:
    msgs = iot.stock_drop("WS-1", "weight", "t", Decimal(20), last_seq=10, now=NOW)
    seqs = []
    for m in msgs:
        try:
            seqs.append(iot.parse(m, received_at=NOW).seq)
        except BadMessage:
            seqs.append(-1)
    assert seqs == [11, 12, 12, 14, 13, -1, 15, 17]
    route = iot.route_deviation("GPS-1", [(31.3, 120.59), (31.23, 121.47)], Decimal(5),
                                last_seq=0, now=NOW)  # fmt: skip
    assert len(route) == 7
