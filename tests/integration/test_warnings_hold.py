"""No false all-clear, on the real service (real Mosquitto, its own SQLite store), in scaled time.

A scenario clock runs 600 times faster than the wall clock: Zhapu's stale limit (5 × 60 s) lasts
0.5 s and the 1800 s hold time 3 s. The scenario starts 2.5 h after a predicted high water, so the
storm and the calm water that follows fall between two high waters (the skew surge of the last
cycle stays calm; the red comes from the last-hour residual).
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from xml.etree import ElementTree as ET

import aiomqtt
import httpx
import numpy as np
import pytest

from marine_watch.clock import ScaledClock
from marine_watch.settings import Settings
from risk_models import tide
from tests.helpers import JsonObject, Running, json_of, present, serve
from tests.integration.test_surge_scenario import KEYS, NS, api_keys
from tests.services import Broker, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]
SPEED = 600.0
STEP_S = 60.0
HOUR_S = 3600.0
HARBOUR = (30.60, 121.07)  # a point in the zhapu-harbour village (SAMPLE polygon)


class Gauge:
    """Zhapu's gauge: predicted tide + surge each scenario minute, while ``on``."""

    def __init__(
        self, broker: Broker, root: str, clock: ScaledClock, constants: tide.TideConstants
    ) -> None:
        self.broker, self.topic, self.clock, self.constants = (
            broker,
            f"{root}/zhapu/tide_level",
            clock,
            constants,
        )
        self.surge_m = 0.0
        self.on = True
        self.running = True

    def value(self, t_s: float) -> float:
        return round(float(tide.predict(self.constants, np.array([t_s]))[0]) + self.surge_m, 3)

    async def run(self, backfill_s: float) -> None:
        async with aiomqtt.Client(
            self.broker.host, self.broker.port, identifier=f"gauge-{time.monotonic_ns()}"
        ) as client:
            now = self.clock.now()
            items = [
                {"kind": "tide_level", "ts": int(t * 1000), "value": self.value(t), "unit": "m"}
                for t in np.arange(now - backfill_s, now, STEP_S)
            ]
            await client.publish(self.topic.rsplit("/", 1)[0] + "/batch", json.dumps(items), qos=1)
            next_t = now
            while self.running:
                if self.on:
                    payload = {"ts": int(next_t * 1000), "value": self.value(next_t), "unit": "m"}
                    await client.publish(self.topic, json.dumps(payload), qos=1)
                next_t += STEP_S
                await asyncio.sleep(max(0.0, (next_t - self.clock.now()) / SPEED))


def scenario_start(constants: tide.TideConstants) -> float:
    """2.5 h after the latest predicted high water before now."""
    now = time.time()
    grid = now - np.arange(14 * HOUR_S, 0.0, -300.0)
    hw = tide.high_low_waters(grid, tide.predict(constants, grid))
    return float(hw.times_s[hw.is_high][-1]) + 2.5 * HOUR_S


ZHAPU_RED_M = 5.40  # Zhapu's red warning tide level (config/stations.toml, SAMPLE)


def red_surge_m(constants: tide.TideConstants, start_s: float) -> float:
    """A surge that makes the next predicted high water red at Zhapu, whichever of the day's two
    unequal high waters comes next (at least 3.5 m; 0.3 m above what red needs)."""
    grid = np.arange(start_s, start_s + 13 * HOUR_S, 300.0)
    next_high_m = float(tide.predict(constants, grid).max())
    return max(3.5, round(ZHAPU_RED_M + 0.3 - next_high_m, 2))


async def _harbour(http: httpx.AsyncClient) -> JsonObject:
    answer = await http.get("/api/v1/risk", params={"lat": HARBOUR[0], "lon": HARBOUR[1]})
    assert answer.status_code == 200, answer.text
    return json_of(answer)


async def _until(
    http: httpx.AsyncClient, predicate: Callable[[JsonObject], bool], within_s: float
) -> JsonObject:
    async with asyncio.timeout(scaled(within_s)):
        while True:
            answer = await _harbour(http)
            if predicate(answer):
                return answer
            await asyncio.sleep(0.1)


async def _feed_kinds(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    root = ET.fromstring((await http.get("/api/v1/alerts.atom")).content)
    out = []
    for entry in root.findall("atom:entry", NS):
        alert = present(entry.find("atom:content/cap:alert", NS))
        out.append(
            (
                present(alert.findtext("cap:msgType", namespaces=NS)),
                alert.findtext("cap:info/cap:responseType", namespaces=NS) or "",
            )
        )
    return out


@asynccontextmanager
async def scaled_coast(
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    constants: tide.TideConstants,
    *,
    surge_m: float,
    backfill_s: float,
) -> AsyncIterator[tuple[Running, httpx.AsyncClient, Gauge, ScaledClock]]:
    """The service on a scenario clock and Zhapu's gauge publishing to it."""
    clock = ScaledClock(scenario_start(constants), SPEED)
    settings = make_settings(
        mosquitto, api_keys=api_keys(), rate_limit_per_s=1000.0, rate_limit_burst=1000
    )
    gauge = Gauge(mosquitto, topic_root, clock, constants)
    gauge.surge_m = surge_m
    async with (
        serve(settings, clock=clock) as app,
        httpx.AsyncClient(base_url=app.http, timeout=10) as http,
    ):
        publisher = asyncio.create_task(gauge.run(backfill_s=backfill_s))
        try:
            yield app, http, gauge, clock
        finally:
            gauge.running = False
            await publisher


@pytest.fixture
def constants() -> tide.TideConstants:
    from marine_watch.coast import load_catalogue, load_constants
    from marine_watch.settings import Settings
    from tests.services import CONFIG_DIR

    return load_constants(Settings(config_dir=CONFIG_DIR), load_catalogue(CONFIG_DIR))["zhapu"]


async def test_a_silent_gauge_keeps_red_until_calm_water_returns(
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    constants: tide.TideConstants,
) -> None:
    """Red, then silence past the stale limit and the hold time: still red with "no data since",
    no Cancel or all-clear in the CAP feed; calm water again: the colour falls and all-clear is sent."""
    duty = {"X-API-Key": KEYS["duty_officer"]}
    coast = scaled_coast(
        mosquitto, make_settings, topic_root, constants, surge_m=0.0, backfill_s=5 * HOUR_S
    )
    async with coast as (app, http, gauge, clock):
        await _until(http, lambda a: a["level"] == 0, 20)
        gauge.surge_m = red_surge_m(constants, clock.now())
        red = await _until(http, lambda a: a["level"] == 4, 30)
        assert red["explanation"]["hazard"] == "storm_surge"

        gauge.on = False  # the gauge goes quiet
        silent_at = clock.now()
        stale_and_held_s = 300 + app.services.catalogue.rules.hold_time_s + 600
        while clock.now() < silent_at + stale_and_held_s:  # noqa: ASYNC110 - scenario time
            await asyncio.sleep(0.1)
        held = await _harbour(http)
        assert held["level"] == 4, held
        assert held["colour"] == "red"
        assert held["explanation"]["held"] is True
        since = held["explanation"]["no_data_since"]
        assert since["ts_s"] <= silent_at + STEP_S
        assert len(since["local"]) == 5  # HH:MM, +08:00
        assert [m["member"] for m in held["no_data_since"]] == ["zhapu/storm_surge"]
        station = (await http.get("/api/v1/stations/zhapu")).json()
        assert station["status"] == "stale"
        assert station["hazards"]["storm_surge"] == 4
        kinds = await _feed_kinds(http)
        assert kinds, "the red alert is in the feed"
        assert all(k != "Cancel" and r != "AllClear" for k, r in kinds), kinds
        alerts = (await http.get("/api/v1/alerts", headers=duty)).json()["items"]
        silent = [a for a in alerts if a["subject"] == "station" and a["subject_id"] == "zhapu"]
        assert [a["msg_type"] for a in silent] == ["Alert"]  # the station's own alert stays
        assert "Zhapu tide station" in silent[0]["headline"]

        gauge.surge_m = 0.0
        gauge.on = True  # calm water again
        calm = await _until(http, lambda a: a["level"] == 0, 40)
        assert "held" not in (calm["explanation"] or {})
        async with asyncio.timeout(scaled(10)):
            while ("Cancel", "AllClear") not in await _feed_kinds(http):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        alerts = (await http.get("/api/v1/alerts", headers=duty)).json()["items"]
        station_msgs = [a["msg_type"] for a in alerts if a["subject_id"] == "zhapu"]
        assert "Cancel" in station_msgs  # reporting again closes the station's alert


async def test_a_red_forecast_makes_the_zone_red_with_the_gauge_silent(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """Zhapu never reports; a forecast high water of 5.6 m (red at Zhapu) makes the village red."""
    settings = make_settings(mosquitto, api_keys=api_keys())
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http, timeout=10) as http:
        now = app.services.clock.now()

        def stamp(s: float) -> str:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))

        forecast = {
            "station": "zhapu",
            "issued": stamp(now),
            "source": "Zhejiang provincial forecast (test)",
            "high_waters": [{"ts": stamp(now + 5 * HOUR_S), "level_m": 5.6}],
        }
        posted = await http.post(
            "/api/v1/forecasts", json=forecast, headers={"X-API-Key": KEYS["forecaster"]}
        )
        assert posted.status_code == 201, posted.text
        red = await _until(http, lambda a: a["level"] == 4, 15)
        exp = red["explanation"]
        assert exp["forecast_method"] == "external"
        assert exp["gauge"]["reason"] == "no reading received yet"
        assert exp["onset_s"] == pytest.approx(now + 5 * HOUR_S, abs=1)


async def test_a_duty_officer_lifts_a_held_warning_and_it_is_audited(
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    constants: tide.TideConstants,
) -> None:
    """A held red is lifted by a duty officer (audited); the zone then falls and all-clear is sent."""
    duty = {"X-API-Key": KEYS["duty_officer"]}
    coast = scaled_coast(
        mosquitto,
        make_settings,
        topic_root,
        constants,
        surge_m=red_surge_m(constants, scenario_start(constants)),
        backfill_s=HOUR_S,
    )
    async with coast as (_app, http, gauge, _clock):
        await _until(http, lambda a: a["level"] == 4, 30)
        gauge.on = False
        await _until(http, lambda a: bool(a["no_data_since"]), 20)
        body = {"note": "gauge flooded; bulletin says water falling"}
        refused = await http.post(
            "/api/v1/stations/zhapu/lift",
            json=body,
            headers={"X-API-Key": KEYS["emergency_team"]},
        )
        assert refused.status_code == 403
        lifted = await http.post("/api/v1/stations/zhapu/lift", json=body, headers=duty)
        assert lifted.status_code == 201, lifted.text
        assert "zhapu/storm_surge" in lifted.json()["lifted"]
        again = await http.post("/api/v1/stations/zhapu/lift", json=body, headers=duty)
        assert again.status_code == 409
        trail = (
            await http.get("/api/v1/audit", params={"subject_id": "zhapu"}, headers=duty)
        ).json()
        rows = [r for r in trail["items"] if r["action"] == "lifted"]
        assert [r["actor"] for r in rows] == ["duty_officer:duty_officer-user"]
        assert "bulletin" in rows[0]["detail"]
        calm = await _until(http, lambda a: a["level"] == 0, 20)
        assert calm["explanation"]["lifted"]["by"] == "duty_officer:duty_officer-user"
        async with asyncio.timeout(scaled(10)):
            while ("Cancel", "AllClear") not in await _feed_kinds(http):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
