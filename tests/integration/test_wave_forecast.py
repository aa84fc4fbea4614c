"""Wave forecasts on the real service (Mosquitto, SQLite): by API and by MQTT, in the outlook."""

import asyncio
import json
import time
from collections.abc import Callable

import aiomqtt
import httpx
import pytest

from marine_watch.settings import Settings
from tests.browser.pages import HARBOUR
from tests.helpers import JsonObject, json_of
from tests.integration.conftest import serve
from tests.integration.test_surge_scenario import KEYS, api_keys
from tests.services import Broker, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
HOUR_S = 3600.0


def _stamp(ts_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts_s))


async def _answer(
    http: httpx.AsyncClient, predicate: Callable[[JsonObject], bool], within_s: float
) -> JsonObject:
    async with asyncio.timeout(scaled(within_s)):
        while True:
            answer = json_of(
                await http.get("/api/v1/risk", params={"lat": HARBOUR[0], "lon": HARBOUR[1]})
            )
            if predicate(answer):
                return answer
            await asyncio.sleep(0.1)


async def test_a_wave_forecast_colours_a_silent_buoy_and_joins_the_outlook(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """The Zhapu buoy never reports; a forecast of 4.8 m in 6 h (orange nearshore) makes the
    village orange from waves, the first outlook slot orange and the waves hours forecast; a wave
    forecast for a tide gauge is refused by the API (422) and dead-lettered on MQTT."""
    settings = make_settings(mosquitto, api_keys=api_keys())
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http, timeout=10) as http:
        before = await _answer(http, lambda a: a["evaluated_s"] is not None, 10)
        assert "waves" in {g["hazard"] for g in before["outlook_not_covered"]}
        now = app.services.clock.now()
        forecast = {
            "station": "buoy-zhapu",
            "issued": _stamp(now),
            "source": "Zhejiang provincial forecast (test)",
            "points": [
                {"ts": _stamp(now), "hs_m": 1.0, "tp_s": 7.0},
                {"ts": _stamp(now + 6 * HOUR_S), "hs_m": 4.8, "tp_s": 10.0},
                {"ts": _stamp(now + 18 * HOUR_S), "hs_m": 2.0, "tp_s": 8.0},
            ],
        }
        fc_key = {"X-API-Key": KEYS["forecaster"]}
        posted = await http.post("/api/v1/forecasts/waves", json=forecast, headers=fc_key)
        assert posted.status_code == 201, posted.text
        answer = await _answer(http, lambda a: a["level"] == 3, 15)
        assert answer["explanation"]["hazard"] == "waves"
        assert answer["explanation"]["observations"]["status"] == "no data"
        assert answer["outlook"][0]["colour"] == "orange"
        assert "waves" in answer["outlook_covers"]
        ahead = [s for s in answer["outlook"][1:] if s["hazard"] == "waves"]
        assert max(s["level"] for s in ahead) == 3
        listed = (await http.get("/api/v1/forecasts/waves")).json()
        assert [f["station"] for f in listed] == ["buoy-zhapu"]

        wrong = {**forecast, "station": "zhapu"}
        refused = await http.post("/api/v1/forecasts/waves", json=wrong, headers=fc_key)
        assert refused.status_code == 422
        async with aiomqtt.Client(
            mosquitto.host, mosquitto.port, identifier=f"fc-{time.monotonic_ns()}"
        ) as client:
            await client.publish(
                f"{topic_root}/forecast/by/zmfo/zhapu/waves", json.dumps(wrong).encode(), qos=1
            )
        duty = {"X-API-Key": KEYS["duty_officer"]}
        async with asyncio.timeout(scaled(10)):
            while True:
                letters = (await http.get("/api/v1/dead-letters", headers=duty)).json()
                found = [
                    d
                    for d in letters["items"]
                    if d["topic"].endswith("/forecast/by/zmfo/zhapu/waves")
                ]
                if found:
                    break
                await asyncio.sleep(0.1)
        assert found[0]["reason"] == "bad_forecast"
        assert "unknown wave station" in found[0]["detail"]
