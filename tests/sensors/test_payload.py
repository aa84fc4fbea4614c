"""Decoding never fails on bad input with anything but PayloadError, and keeps every good reading."""

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marine_watch.coast import load_catalogue
from sensors.payload import Decoded, PayloadError, Reason, _Checker, _decode_batch_items, decode
from sensors.reading import UNITS, Kind, Reading

ROOT = "marine/v1"
STATIONS = frozenset({"zhapu", "dushan"})
NOW_S = 1_795_000_000.0
NOW_MS = int(NOW_S * 1000)
RANGES = load_catalogue(Path(__file__).resolve().parents[2] / "config").qc.range

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
item_keys = st.sampled_from(["ts", "value", "unit", "seq", "kind", "extra"])
item_like = st.dictionaries(item_keys, json_value, max_size=5)
topics = st.sampled_from(
    [f"{ROOT}/zhapu/tide_level", f"{ROOT}/zhapu/batch", f"{ROOT}/atlantis/tide_level",
     f"{ROOT}/zhapu/tsunami", f"{ROOT}/zhapu", f"{ROOT}/zhapu/tide_level/x", "other/zhapu/tide_level"]
)  # fmt: skip


def _decode(topic: str, payload: bytes, **kw: Any) -> Decoded:
    return decode(
        topic,
        payload,
        root=ROOT,
        stations=STATIONS,
        now_s=NOW_S,
        max_bytes=4096,
        ranges=RANGES,
        **kw,
    )


def _outcome(topic: str, payload: bytes) -> str:
    """'ok' or the reason; any other exception escapes and fails the test."""
    try:
        decoded = _decode(topic, payload)
    except PayloadError as err:
        return Reason(err.reason).value  # a reason the dead-letter table and metrics know
    for reading in decoded.readings:
        assert math.isfinite(reading.value)
    for reject in decoded.rejects:
        assert reject.reason in Reason
    return "ok"


@settings(max_examples=1_000)
@given(topics, st.binary(max_size=300))
def test_random_bytes_never_crash_decoding(topic: str, payload: bytes) -> None:
    """Arbitrary bytes on any topic give readings or a PayloadError with a reason, nothing else."""
    _outcome(topic, payload)


@settings(max_examples=500)
@given(topics, st.one_of(item_like, st.lists(item_like, max_size=5), json_value))
def test_wrong_json_shapes_never_crash_decoding(topic: str, value: object) -> None:
    """Any JSON document (objects with the right keys and wrong values included) decodes or is refused."""
    _outcome(topic, json.dumps(value, allow_nan=True).encode())


@given(st.sampled_from(list(Kind)), st.integers(0, 86_400_000), st.floats(-1e5, 1e5))
def test_a_good_reading_is_always_kept(kind: Kind, age_ms: int, value: float) -> None:
    """A finite value in the right unit at a past time is a reading with that value, whatever its range."""
    payload = json.dumps({"ts": NOW_MS - age_ms, "value": value, "unit": UNITS[kind]}).encode()
    (reading,) = _decode(f"{ROOT}/zhapu/{kind.value}", payload).readings
    assert (reading.station, reading.kind, reading.value) == ("zhapu", kind.value, value)
    assert reading.ts_ns == (NOW_MS - age_ms) * 1_000_000


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("zhapu/tide_level", b"\xff\xfe", "not_json"),
        ("zhapu/tide_level", b"[1, 2]", "bad_shape"),
        ("zhapu/tide_level", b'{"ts": 1795000000000, "value": true}', "bad_shape"),
        ("zhapu/tide_level", b'{"ts": 1795000000000, "value": NaN}', "not_finite"),
        ("zhapu/tide_level", b'{"ts": 1795000000000, "value": -Infinity}', "not_finite"),
        ("zhapu/tide_level", b'{"ts": 1795000000000, "value": 1e400}', "not_finite"),
        ("zhapu/tide_level", b'{"ts": 1795000000000, "value": 1e12}', "bad_value"),
        ("zhapu/tide_level", b'{"ts": 1795000000000, "value": 1, "unit": "ft"}', "wrong_unit"),
        ("zhapu/tide_level", b'{"ts": "yesterday", "value": 1}', "bad_timestamp"),
        ("zhapu/tide_level", b'{"ts": "2026-11-23T08:00:00", "value": 1}', "bad_timestamp"),
        ("zhapu/tide_level", b'{"ts": 1795000000, "value": 1}', "bad_timestamp"),
        ("zhapu/tide_level", b'{"ts": 1895000000000, "value": 1}', "future_timestamp"),
        ("atlantis/tide_level", b'{"ts": 1795000000000, "value": 1}', "unknown_station"),
        ("zhapu/tsunami", b'{"ts": 1795000000000, "value": 1}', "unknown_kind"),
        ("zhapu/tide_level/x", b'{"ts": 1795000000000, "value": 1}', "bad_topic"),
        ("zhapu/tide_level", b" " * 5000, "too_large"),
        ("zhapu/batch", b"[]", "bad_shape"),
    ],
)
def test_each_kind_of_bad_payload_has_its_reason(topic: str, payload: bytes, reason: str) -> None:
    """Every malformation named in the MQTT contract maps to one dead-letter reason."""
    assert _outcome(f"{ROOT}/{topic}", payload) == reason


def test_a_batch_keeps_its_good_items_and_rejects_the_bad_ones() -> None:
    """In a batch, bad items are rejected one by one with their reason, the good ones kept."""
    items = [
        {"ts": NOW_MS, "value": 2.0, "kind": "tide_level"},
        {"ts": NOW_MS, "value": 2.0, "kind": "tsunami"},
        {"ts": NOW_MS, "value": "high", "kind": "wave_height"},
        {"ts": NOW_MS, "value": 1.5, "kind": "wave_height", "unit": "m"},
    ]
    decoded = _decode(f"{ROOT}/zhapu/batch", json.dumps(items).encode())
    assert [(r.kind, r.value) for r in decoded.readings] == [
        ("tide_level", 2.0),
        ("wave_height", 1.5),
    ]
    assert sorted(r.reason.value for r in decoded.rejects) == ["bad_shape", "unknown_kind"]


kind_names = st.sampled_from([k.value for k in Kind] + ["tsunami"]) | st.none()
plausible_item = st.fixed_dictionaries(
    {
        "ts": st.integers(NOW_MS - 10**9, NOW_MS + 2 * 86_400_000)
        | st.sampled_from(["2026-11-23T10:00:00+00:00", "2026-11-23T10:00:00", "yesterday"]),
        "value": st.floats(-2e6, 2e6) | st.integers(-10, 2000),
        "kind": kind_names,
    },
    optional={"unit": st.sampled_from(["m", "s", "deg", "hPa", "PSU"]), "seq": st.integers(0, 9)},
)


@settings(max_examples=300)
@given(st.lists(plausible_item | item_like, min_size=1, max_size=12))
def test_the_fast_batch_path_agrees_with_the_item_by_item_path(
    items: list[dict[str, object]],
) -> None:
    """The array path gives the readings and reject reasons of the exact, item-by-item path."""
    payload = json.dumps(items).encode()
    check = _Checker("zhapu", NOW_S, 300.0, RANGES)

    def outcome(run: Callable[[], Decoded]) -> str | tuple[list[Reading], list[str]]:
        try:
            decoded = run()
        except PayloadError as err:
            return err.reason
        return decoded.readings, sorted(r.reason for r in decoded.rejects)

    slow = outcome(lambda: _decode_batch_items(payload, check))
    topic = f"{ROOT}/zhapu/batch"
    fast = outcome(
        lambda: decode(topic, payload, root=ROOT, stations=STATIONS, now_s=NOW_S, ranges=RANGES)
    )
    assert fast == slow
