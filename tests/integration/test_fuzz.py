"""10,000 messages, half of them malformed, through the real broker and app: nothing crashes, every
bad payload is dead-lettered with a reason, every good reading is stored.

The messages come from a seeded generator (reproducible, and cheap enough to publish 10,000 of them
in a few seconds); tests/sensors/test_payload.py explores decode itself with Hypothesis.
"""

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiomqtt
import pytest

from marine_watch.settings import Settings
from sensors.payload import Reason
from sensors.reading import UNITS, Kind
from tests.helpers import serve
from tests.services import Broker, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]

MESSAGES = 10_000
MAX_BYTES = 2_048
STATIONS = ("zhapu", "dushan", "buoy-bay")


@dataclass
class Fuzz:
    """Messages to publish, with how many readings and dead letters they must give."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    good: int = 0
    bad: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


def _bad_single(rng: random.Random, now_ms: int) -> tuple[str, bytes, str]:
    """(station/kind, payload, what is wrong) for one malformed message."""
    ts = now_ms - rng.randrange(86_400_000)
    cases = [
        ("zhapu/tide_level", rng.randbytes(rng.randrange(1, 64)), "random bytes"),
        ("zhapu/tide_level", json.dumps(rng.choice([[], {}, "x", 1, None, [1, 2]])).encode(), "shape"),
        ("zhapu/tide_level", json.dumps({"ts": ts}).encode(), "no value"),
        ("zhapu/tide_level", json.dumps({"ts": ts, "value": "4.1"}).encode(), "string value"),
        ("zhapu/tide_level", json.dumps({"ts": ts, "value": 1, "x": 1}).encode(), "extra key"),
        ("zhapu/wave_height", f'{{"ts": {ts}, "value": {rng.choice(["NaN", "Infinity", "-Infinity", "1e999"])}}}'.encode(), "not finite"),
        ("zhapu/wave_height", json.dumps({"ts": ts, "value": rng.choice([1e9, -1e300, 10**40])}).encode(), "huge"),
        ("zhapu/tide_level", json.dumps({"ts": ts, "value": 1.0, "unit": rng.choice(["ft", "cm", "M", ""])}).encode(), "unit"),
        ("atlantis/tide_level", json.dumps({"ts": ts, "value": 1.0}).encode(), "station"),
        ("zhapu/tsunami_height", json.dumps({"ts": ts, "value": 1.0}).encode(), "kind"),
        ("zhapu/tide_level", json.dumps({"ts": rng.choice(["now", "2026-13-01T00:00:00Z", "2026-11-23T08:00:00", 5, -1, 1.5]), "value": 1.0}).encode(), "timestamp"),
        ("zhapu/tide_level", json.dumps({"ts": now_ms + 40 * 86_400_000, "value": 1.0}).encode(), "future"),
        ("zhapu/tide_level", b'{"ts": 1, "value": 1, "pad": "' + b"x" * MAX_BYTES + b'"}', "oversized"),
        ("zhapu/tide_level/extra", json.dumps({"ts": ts, "value": 1.0}).encode(), "topic"),
    ]  # fmt: skip
    return rng.choice(cases)


def generate(root: str, now_ms: int, seed: int = 20261123) -> Fuzz:
    """Half good, half bad single messages, and one batch in ten mixing good and bad items."""
    rng = random.Random(seed)
    fuzz = Fuzz()
    ts = now_ms - 5 * 86_400_000  # each good reading gets its own time: all must be stored
    for i in range(MESSAGES):
        station = STATIONS[i % len(STATIONS)]
        if i % 10 == 0:
            items: list[object] = []
            for _ in range(5):
                ts += 1000
                kind = rng.choice(list(Kind))
                if rng.random() < 0.3:
                    items.append({"ts": ts, "value": rng.choice(["x", None]), "kind": kind})
                    fuzz.bad += 1
                else:
                    items.append(
                        {"ts": ts, "value": rng.uniform(1, 2), "kind": kind, "unit": UNITS[kind]}
                    )
                    fuzz.good += 1
            fuzz.messages.append((f"{root}/{station}/batch", json.dumps(items).encode()))
        elif i % 2:
            ts += 1000
            kind = rng.choice(list(Kind))
            payload = {"ts": ts, "value": round(rng.uniform(1, 2), 3), "unit": UNITS[kind]}
            fuzz.messages.append((f"{root}/{station}/{kind}", json.dumps(payload).encode()))
            fuzz.good += 1
        else:
            where, payload_bytes, what = _bad_single(rng, now_ms)
            fuzz.messages.append((f"{root}/{where}", payload_bytes))
            fuzz.kinds[what] += 1
            fuzz.bad += 1
    return fuzz


async def _publish(host: str, port: int, messages: list[tuple[str, bytes]]) -> None:
    async with aiomqtt.Client(host, port, identifier=f"fuzz-{time.monotonic_ns()}") as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


async def test_ten_thousand_fuzzed_messages(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """0 crashes; dead letters == bad payloads (each with a known reason); stored == good readings."""
    settings = make_settings(mosquitto, max_payload_bytes=MAX_BYTES)
    async with serve(settings) as app:
        fuzz = generate(topic_root, int(app.services.clock.now() * 1000))
        assert len(fuzz.messages) == MESSAGES
        await _publish(mosquitto.host, mosquitto.port, fuzz.messages)
        services = app.services
        async with asyncio.timeout(scaled(90)):
            while True:
                stored = await services.store.count()
                dead = await services.dead_letters.count()
                if stored >= fuzz.good and dead >= fuzz.bad:
                    break
                await asyncio.sleep(0.2)
        await services.writer.drained()
        letters = await services.dead_letters.query(limit=MESSAGES)
    assert (stored, dead) == (fuzz.good, fuzz.bad)
    assert {item["reason"] for item in letters} <= {r.value for r in Reason}
    assert len(fuzz.kinds) == 14, fuzz.kinds  # every malformation was exercised
