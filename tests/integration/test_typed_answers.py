"""The answer models describe the real answers exactly: each answer of a live service, coast red
and alerts out, validates against its model and comes back from it unchanged."""

import json
import time
from collections.abc import Callable
from typing import Any

import aiomqtt
import httpx
import pytest
from pydantic import BaseModel

from marine_watch.api import answers
from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from sensors.reading import UNITS, Kind
from tests.helpers import serve
from tests.services import Broker, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
DUTY_KEY = "typed-answers-duty-officer-key"
#: Zhapu red (tide), waves and wind high at the same time: every explanation shape shows up.
READINGS = [
    ("zhapu", Kind.TIDE_LEVEL, 5.6),
    ("buoy-zhapu", Kind.WAVE_HEIGHT, 4.0),
    ("buoy-zhapu", Kind.WAVE_PERIOD, 8.0),
    ("mast-zhapu", Kind.WIND_SPEED, 26.0),
    ("mast-zhapu", Kind.WIND_GUST, 34.0),
]


async def _publish(broker: Any, root: str, now: float) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"t-{time.time_ns()}") as c:
        for station, kind, value in READINGS:
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


def _same(model: type[BaseModel] | Any, body: Any) -> None:
    """``body`` validates against ``model`` and dumps back to exactly itself."""
    if isinstance(body, list):
        for item in body:
            _same(model, item)
        return
    parsed = model.model_validate(body)
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == body


async def test_every_answer_round_trips_through_its_model(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """Places, stations, readings, tide, overtopping, alerts with acknowledgements, audit, health."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    duty = {"X-API-Key": DUTY_KEY}
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        await _publish(mosquitto, topic_root, app.services.clock.now())
        deadline = time.monotonic() + scaled(15)
        while True:
            alerts = (await http.get("/api/v1/alerts?active=true&with=acks", headers=duty)).json()
            if alerts["count"] >= 2 or time.monotonic() > deadline:
                break
            await app.services.pipeline.evaluate()
        assert alerts["count"] >= 2
        first = alerts["items"][0]["identifier"]
        ack = await http.post(f"/api/v1/alerts/{first}/ack", json={"note": "on it"}, headers=duty)
        checks: list[tuple[Any, str, dict[str, str] | None]] = [
            (answers.RiskAnswer, "/api/v1/risk?lat=30.60&lon=121.07", None),
            (answers.ZoneCollection, "/api/v1/zones", None),
            (answers.ZoneFeature, "/api/v1/zones/zhapu-harbour", None),
            (answers.SegmentCollection, "/api/v1/segments", None),
            (answers.StationAnswer, "/api/v1/stations", None),
            (answers.StationAnswer, "/api/v1/stations/zhapu", None),
            (answers.Readings, "/api/v1/stations/zhapu/readings?every=10m", None),
            (answers.PredictedTide, "/api/v1/stations/zhapu/tide", None),
            (answers.Overtopping, "/api/v1/segments/d-zhapu/overtopping", None),
            (answers.Overtopping, "/api/v1/segments/d-zhapu/overtopping?water_m=9", None),
            (answers.AlertList, "/api/v1/alerts?with=acks", duty),
            (answers.AlertList, "/api/v1/alerts", duty),
            (answers.AlertAnswer, f"/api/v1/alerts/{first}", duty),
            (answers.AuditTrail, "/api/v1/audit", duty),
            (answers.ZoneHistory, "/api/v1/zones/zhapu-harbour/history", None),
            (answers.Health, "/health", None),
        ]
        bodies = {}
        for model, path, headers in checks:
            response = await http.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            bodies[path] = response.json()
            _same(model, bodies[path])
    _same(answers.Ack, ack.json())
    listed = {a["identifier"]: a for a in bodies["/api/v1/alerts?with=acks"]["items"]}
    assert [a["actor"] for a in listed[first]["acknowledgements"]] == ["duty_officer:ops"]
    assert all("acknowledgements" not in a for a in bodies["/api/v1/alerts"]["items"])
    assert bodies["/api/v1/segments/d-zhapu/overtopping?water_m=9"]["overflow"] is True
    assert bodies["/api/v1/risk?lat=30.60&lon=121.07"]["colour"] == "red"
