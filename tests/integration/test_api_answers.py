"""What the API answers say about themselves: every `source` resolves to a section of the repository's
docs, and the zones are valid RFC 7946 GeoJSON (exterior rings counter-clockwise)."""

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiomqtt
import httpx
import pytest
from shapely.geometry import shape
from websockets.asyncio.client import connect

from marine_watch.settings import Settings
from sensors.reading import UNITS, Kind
from tests.helpers import serve, sources_in, unresolved
from tests.services import Broker, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
HARBOUR = (30.60, 121.07)
#: One hazard at a time, above its first colour: (hazard, [(station, kind, value), ...]). Alone, each
#: drives the colour of some place, so its explanation (and source) shows in the answers.
HAZARDS = {
    "storm_surge": [("zhapu", Kind.TIDE_LEVEL, 5.6)],
    "waves": [("buoy-zhapu", Kind.WAVE_HEIGHT, 4.0), ("buoy-zhapu", Kind.WAVE_PERIOD, 8.0)],
    "wind": [("mast-zhapu", Kind.WIND_SPEED, 26.0), ("mast-zhapu", Kind.WIND_GUST, 34.0)],
    "overtopping": [
        ("zhapu", Kind.TIDE_LEVEL, 4.0),
        ("buoy-zhapu", Kind.WAVE_HEIGHT, 4.0),
        ("buoy-zhapu", Kind.WAVE_PERIOD, 8.0),
    ],
    "red_tide": [
        ("wq-tianfei", Kind.CHLOROPHYLL_A, 45.0),
        ("wq-tianfei", Kind.DISSOLVED_OXYGEN, 6.0),
    ],
}


async def _publish(
    broker: Broker, root: str, now: float, readings: list[tuple[str, Kind, float]]
) -> None:
    """Three hours of each reading, every 10 minutes, gently varying (QC sees no flat line)."""
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"s-{time.time_ns()}") as c:
        for station, kind, value in readings:
            items = [
                {
                    "kind": kind.value,
                    "ts": int((now - 600 * i) * 1000),
                    "value": round(value * (1 + 0.002 * (i % 5)), 3),
                    "unit": UNITS[kind],
                }
                for i in range(18, -1, -1)
            ]
            await c.publish(f"{root}/{station}/batch", json.dumps(items), qos=1)


async def _answers(http: httpx.AsyncClient, ws_url: str) -> dict[str, object]:
    """Every public GET answer that may carry a source, and the /ws/risk snapshot."""
    zones = (await http.get("/api/v1/zones")).json()
    segments = (await http.get("/api/v1/segments")).json()
    out: dict[str, object] = {
        "/api/v1/zones": zones,
        "/api/v1/segments": segments,
        "/api/v1/stations": (await http.get("/api/v1/stations")).json(),
        "/api/v1/forecasts": (await http.get("/api/v1/forecasts")).json(),
        "/api/v1/risk": (
            await http.get("/api/v1/risk", params={"lat": HARBOUR[0], "lon": HARBOUR[1]})
        ).json(),
    }
    for f in zones["features"]:
        out[f"/api/v1/zones/{f['id']}"] = (await http.get(f"/api/v1/zones/{f['id']}")).json()
    for f in segments["features"]:
        url = f"/api/v1/segments/{f['id']}/overtopping"
        out[url] = (await http.get(url)).json()
    async with connect(f"{ws_url}/ws/risk") as ws:
        out["/ws/risk snapshot"] = json.loads(await ws.recv())
    return out


@pytest.mark.parametrize("hazard", sorted(HAZARDS))
async def test_every_source_in_the_api_answers_resolves(
    hazard: str, mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """With a hazard raised, each `source` in the API's answers cites a docs section that exists."""
    settings = make_settings(mosquitto, rate_limit_per_s=1000.0, rate_limit_burst=1000)
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        await _publish(mosquitto, topic_root, app.services.clock.now(), HAZARDS[hazard])
        async with asyncio.timeout(scaled(20)):
            while True:
                answers = await _answers(http, app.ws)
                explained = [e for body in answers.values() for e in _explanations(body)]
                if any(e["hazard"] == hazard and e.get("level", 1) > 0 for e in explained):
                    break
                await asyncio.sleep(0.3)
    found = sorted({s for body in answers.values() for s in sources_in(body)})
    raised = {e["source"] for e in explained if e["hazard"] == hazard and e.get("source")}
    assert raised, explained
    assert raised <= set(found)
    assert len(found) >= 3  # the tide stations' warning levels, whatever is raised
    assert [p for s in found for p in unresolved(s)] == []


def _explanations(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "hazard" in value:
            yield value
        for item in value.values():
            yield from _explanations(item)
    elif isinstance(value, list):
        for item in value:
            yield from _explanations(item)


async def test_zones_follow_the_right_hand_rule(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """RFC 7946 §3.1.6: every served polygon's exterior ring is counter-clockwise (holes clockwise)."""
    async with serve(make_settings(mosquitto)) as app, httpx.AsyncClient(base_url=app.http) as http:
        zones = (await http.get("/api/v1/zones")).json()["features"]
        one = (await http.get(f"/api/v1/zones/{zones[0]['id']}")).json()
    assert len(zones) == 15  # two regions: 2 cities, 4 towns, 9 villages
    for feature in [*zones, one]:
        polygon = shape(feature["geometry"])
        assert polygon.is_valid, feature["id"]
        assert polygon.exterior.is_ccw, feature["id"]
        assert all(not ring.is_ccw for ring in polygon.interiors), feature["id"]


async def test_readings_outside_the_stored_time_range_are_a_clear_422(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """Times are stored as int64 ns: a range outside 1677-2262 is refused, not a 500."""
    async with serve(make_settings(mosquitto)) as app, httpx.AsyncClient(base_url=app.http) as http:
        early = await http.get(
            "/api/v1/stations/zhapu/readings", params={"to": "0306-05-25T03:21:40Z"}
        )
        late = await http.get(
            "/api/v1/stations/zhapu/readings",
            params={"from": "2300-01-01T00:00:00Z", "to": "2300-01-02T00:00:00Z"},
        )
    assert (early.status_code, late.status_code) == (422, 422)
    assert "between 1677-09-23 and 2262-04-10" in early.json()["error"]
