"""An orange card from overtopping sits above an outlook that starts orange: API and page agree."""

import json
import time
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import httpx
import numpy as np
import pytest
from playwright.async_api import Browser, expect
from websockets.asyncio.client import connect

from marine_watch.settings import Settings
from risk_models import tide
from tests.browser.pages import HARBOUR, errors_of, open_resident, wait_ws
from tests.integration.conftest import Running, serve
from tests.services import Broker

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.timeout(180)]


async def _calm_tide_and_high_waves(app: Running, broker: Broker, root: str) -> None:
    """Zhapu at its predicted tide (no surge) and 2.5 m, 8 s waves at the Zhapu buoy."""
    now = app.services.clock.now()
    times = now - np.arange(12, -1, -1, dtype=np.float64) * 300.0
    water = tide.predict(app.services.pipeline.assessor.constants["zhapu"], times)
    items = [
        ("zhapu", "tide_level", float(t), float(v), "m") for t, v in zip(times, water, strict=True)
    ]
    for t in times[-3:]:
        items += [("buoy-zhapu", "wave_height", float(t), 2.5, "m")]
        items += [("buoy-zhapu", "wave_period", float(t), 8.0, "s")]
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"pub-{time.monotonic_ns()}"
    ) as c:
        for station, kind, ts, value, unit in items:
            payload = {"ts": int(ts * 1000), "value": round(value, 3), "unit": unit}
            await c.publish(f"{root}/{station}/{kind}", json.dumps(payload).encode(), qos=1)


async def test_orange_overtopping_card_and_outlook_agree_in_api_and_page(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
) -> None:
    """Real Mosquitto and app: the village turns orange from overtopping while the surge is none;
    the API's first outlook slot is orange (now), the overtopping hours ahead are forecast, waves are
    named as not forecast, and the resident page shows the same slots and coverage."""
    async with serve(make_settings(mosquitto)) as app, connect(f"{app.ws}/ws/risk") as ws:
        await ws.recv()
        await _calm_tide_and_high_waves(app, mosquitto, topic_root)
        await wait_ws(app, ws, lambda m: m.get("id") == "zhapu-harbour" and m.get("level") == 3, 15)
        async with httpx.AsyncClient(base_url=app.http) as http:
            answer = (
                await http.get("/api/v1/risk", params={"lat": HARBOUR[0], "lon": HARBOUR[1]})
            ).json()
        assert answer["colour"] == "orange"
        assert answer["explanation"]["hazard"] == "overtopping"
        surge = app.services.pipeline.assessments[("zhapu", "storm_surge")]
        assert surge.level == 0  # the surge strip alone would be all green
        slots = answer["outlook"]
        assert slots[0]["now"] is True
        assert slots[0]["colour"] == "orange"
        assert slots[0]["hazard"] == "overtopping"
        assert any(s["hazard"] == "overtopping" and s["level"] == 3 for s in slots[1:])
        assert "overtopping" in answer["outlook_covers"]
        assert "storm_surge" in answer["outlook_covers"]
        assert "waves" in {g["hazard"] for g in answer["outlook_not_covered"]}

        page = await open_resident(browser, app.http)
        await expect(page.get_by_test_id("risk-card")).to_have_attribute(
            "data-colour", "orange", timeout=5_000
        )
        strip = page.get_by_test_id("outlook").locator("div")
        await expect(strip).to_have_count(len(slots))
        shown = [int(x) for x in await strip.evaluate_all("els => els.map(e => e.dataset.level)")]
        assert shown[0] == 3
        # the page shows what the API answered when it loaded (the same evaluation or a later one)
        assert shown[0] == slots[0]["level"]
        assert max(shown[1:]) == max(s["level"] for s in slots[1:])
        covers = page.get_by_test_id("outlook-covers")
        await expect(covers).to_contain_text("overtopping")
        await expect(covers).to_contain_text("Not forecast")
        assert "waves" in (await covers.get_attribute("data-gaps") or "").split(",")
        await page.screenshot(path=artifacts / "resident-outlook.png", full_page=True)
        assert errors_of(page) == []
