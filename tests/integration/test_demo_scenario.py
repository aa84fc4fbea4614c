"""The demo shows what the README says it shows, run at 600x instead of 180x.

README: the coast starts calm; colours rise from none through blue, yellow and orange to red; the
surge peaks on a spring high water and takes every tide gauge to red; overtopping reaches red, waves
yellow, wind at least orange; the coast falls back to none once the storm has passed. Asserted as
colours and hazards reached, not as timings (the surge forecast may raise colours sooner).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.demo import running_demo
from tests.helpers import ROOT
from tests.services import scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]
SPEED = 600
TIDE_GAUGES = ("zhapu", "huangshan", "dushan", "jinsiniang")


async def _watch_stations(
    http: httpx.AsyncClient, seen: dict[tuple[str, str], int], peaks: dict[str, float]
) -> None:
    """Highest hazard level per station and highest tide level, polled twice a second."""
    while True:
        for station in (await http.get("/api/v1/stations")).json():
            for hazard, level in station["hazards"].items():
                seen[station["id"], hazard] = max(seen.get((station["id"], hazard), -1), level)
            tide = station["last"].get("tide_level")
            if tide is not None:
                peaks[station["id"]] = max(peaks.get(station["id"], -99.0), tide["value"])
        for segment in (await http.get("/api/v1/segments")).json()["features"]:
            key = (segment["id"], "overtopping")
            seen[key] = max(seen.get(key, -1), segment["properties"]["level"])
        await asyncio.sleep(0.5)


async def test_the_demo_does_what_the_readme_says(tmp_path: Path) -> None:
    """Calm start, a rise through every colour to red, red at every tide gauge, back to none."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "the tide gauges reach red" in readme
    seen: dict[tuple[str, str], int] = {}
    peaks: dict[str, float] = {}
    city: list[int] = []
    zones: dict[str, list[int]] = defaultdict(list)
    async with (
        running_demo(tmp_path, "--speed", str(SPEED)) as demo,
        httpx.AsyncClient(base_url=demo.http) as http,
        connect(demo.http.replace("http", "ws") + "/ws/risk") as ws,
    ):
        snapshot = json.loads(await ws.recv())
        start = {p["id"]: p["level"] for p in snapshot["places"] if p["kind"] == "zone"}
        poller = asyncio.create_task(_watch_stations(http, seen, peaks))
        try:
            async with asyncio.timeout(scaled(240)):
                while not (4 in city and city[-1] == 0 and all(z[-1] <= 0 for z in zones.values())):
                    message = json.loads(await ws.recv())
                    if message.get("type") == "zone":
                        zones[message["id"]].append(message["level"])
                        if message["id"] == "pinghu":
                            city.append(message["level"])
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    assert max(start.values(), default=0) <= 1, start  # the storm is still far at the start
    rise = city[: city.index(4) + 1]
    assert rise == sorted(rise), city  # up step by step, never down before the peak
    assert {1, 2, 3} <= set(rise), city  # through blue, yellow and orange to red
    for gauge in TIDE_GAUGES:
        assert seen[gauge, "storm_surge"] == 4, (gauge, peaks)  # the tide gauges reach red
    assert peaks["zhapu"] >= 5.40  # Zhapu's red warning tide level (SAMPLE)
    assert max(v for (s, h), v in seen.items() if h == "overtopping") == 4
    assert min(seen[b, "waves"] for b in ("buoy-zhapu", "buoy-dushan")) >= 2  # nearshore yellow
    assert min(seen[m, "wind"] for m in ("mast-zhapu", "mast-dushan")) >= 3  # at least orange
    assert max(v for (s, h), v in seen.items() if h == "red_tide") == 0  # no bloom in this storm
    assert city[-1] == 0  # and back to none
