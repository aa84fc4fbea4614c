"""The dashboard and the resident page in headless Chromium, against the real app and Mosquitto."""

import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from playwright.async_api import Browser, expect
from websockets.asyncio.client import connect

from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from risk_models import tide
from tests.browser.pages import errors_of, open_page, open_resident, publish, wait_ws, zhapu_red
from tests.helpers import Running, serve
from tests.services import Broker, scaled

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.timeout(180)]
DUTY_KEY = "browser-duty-officer-key"
VILLAGES = ("huangshan", "zhapu-harbour", "tianfei", "quantang", "dushan", "jinsiniang")


async def _tide_history(app: Running, broker: Broker, topic_root: str, station: str) -> None:
    """Three hours of the station's predicted tide plus 0.3 m of surge, every 10 minutes."""
    now = app.services.clock.now()
    times = now - np.arange(18, 0, -1, dtype=np.float64) * 600.0
    predicted = tide.predict(app.services.pipeline.assessor.constants[station], times)
    items = [(float(t), float(v) + 0.3) for t, v in zip(times, predicted, strict=True)]
    await publish(broker, f"{topic_root}/{station}/tide_level", items)


async def test_dashboard_map_chart_live_repaint_and_ack(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
) -> None:
    """The map shows the sample zones, a station chart renders, a red pushed over /ws/risk repaints the village within 2 s, and an alert is acknowledged."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    async with serve(settings) as app, connect(f"{app.ws}/ws/risk") as ws:
        await ws.recv()  # snapshot
        await _tide_history(app, mosquitto, topic_root, "dushan")
        page = await open_page(
            browser, f"{app.http}/", viewport={"width": 1600, "height": 900}, locale="en-GB"
        )
        await page.evaluate(f"localStorage.setItem('mw.key', {DUTY_KEY!r})")
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "1")
        for village in VILLAGES:
            await expect(page.locator(f"path.zone-village[data-zone='{village}']")).to_have_count(1)
        await expect(page.locator("path.zone-town")).to_have_count(4)  # 3 + 1 of the second region
        await expect(page.locator("path.dike")).to_have_count(6)
        await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")

        await page.get_by_test_id("station-row-dushan").click()
        await expect(page.get_by_test_id("observed")).to_have_attribute("d", _path_with_points(10))
        await expect(page.get_by_test_id("predicted")).to_have_attribute("d", _path_with_points(50))
        levels = page.get_by_test_id("warning-levels")
        await expect(levels.locator("line")).to_have_count(4)
        await expect(levels).to_contain_text("SAMPLE")
        await expect(page.get_by_test_id("residual").locator("path")).to_have_count(1)

        await zhapu_red(app, mosquitto, topic_root)
        await wait_ws(app, ws, lambda m: m.get("id") == "zhapu-harbour" and m.get("level") == 4, 15)
        harbour = page.locator("path.zone-village[data-zone='zhapu-harbour']")
        await expect(harbour).to_have_attribute("data-colour", "red", timeout=2_000)
        await expect(page.get_by_test_id("city-badge")).to_have_attribute("data-colour", "red")
        red_villages = page.locator("tr[data-tier='village'] td[data-colour='red']")
        await expect(red_villages).not_to_have_text("0")

        alert = page.get_by_test_id("alert").filter(has_text="Zhapu Harbour Community").first
        await expect(alert).to_be_visible(timeout=scaled(10) * 1000)
        identifier = await alert.get_attribute("data-alert")
        await alert.get_by_test_id("ack").click()
        await expect(alert.get_by_test_id("acked")).to_contain_text("duty_officer:ops")
        async with httpx.AsyncClient(base_url=app.http, headers={"X-API-Key": DUTY_KEY}) as http:
            body = (await http.get(f"/api/v1/alerts/{identifier}")).json()
        assert [a["actor"] for a in body["acknowledgements"]] == ["duty_officer:ops"]

        row = page.get_by_test_id("station-row-zhapu")
        await expect(row).to_contain_text("reporting")
        await row.click()
        await expect(page.get_by_test_id("observed")).to_have_attribute("d", _path_with_points(1))
        await page.screenshot(path=artifacts / "dashboard.png")
        assert errors_of(page) == []
        # the key went in each socket's first message, never in a URL
        paths = {urlsplit(url).path for url in sockets}
        assert {"/ws/risk", "/ws/alerts", "/ws/feeds"} <= paths
        assert not [url for url in sockets if DUTY_KEY in url or "token" in url]


async def test_dashboard_says_alerts_unavailable_without_a_key(
    browser: Browser, mosquitto: Broker, make_settings: Callable[..., Settings], artifacts: Path
) -> None:
    """Without a key the alert panel asks for one; with a refused key it says alerts are unavailable."""
    async with serve(make_settings(mosquitto)) as app:
        page = await open_page(browser, f"{app.http}/")
        await expect(page.get_by_test_id("alerts-signin")).to_be_visible()
        await page.evaluate("localStorage.setItem('mw.key', 'not-a-key')")
        await page.reload()
        await expect(page.get_by_test_id("alerts-unavailable")).to_contain_text("401")


async def test_resident_page_shows_the_colour_and_nearest_shelter_where_you_stand(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
) -> None:
    """With a granted position in Zhapu Harbour the card turns red and lists the nearest shelter."""
    async with serve(make_settings(mosquitto)) as app, connect(f"{app.ws}/ws/risk") as ws:
        await ws.recv()
        page = await open_resident(
            browser, app.http, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        card = page.get_by_test_id("risk-card")
        await expect(card).to_have_attribute("data-colour", "unknown")
        await expect(page.get_by_test_id("shelter").first).to_contain_text(
            "Zhapu Middle School shelter"
        )
        await zhapu_red(app, mosquitto, topic_root)
        await wait_ws(app, ws, lambda m: m.get("id") == "zhapu-harbour" and m.get("level") == 4, 15)
        await expect(card).to_have_attribute("data-colour", "red", timeout=3_000)
        await expect(card).to_contain_text("RED warning")
        await expect(page.get_by_test_id("why")).to_contain_text("5.40")
        await expect(page.get_by_test_id("contact")).to_contain_text("0573-0000-0201")
        await page.screenshot(path=artifacts / "resident.png", full_page=True)

        await page.get_by_test_id("latlon").fill("31.5, 122.9")
        await page.get_by_test_id("latlon").press("Enter")
        await expect(page.locator("#where-hint")).to_contain_text("outside")
        assert errors_of(page) == []


def _path_with_points(n: int) -> re.Pattern[str]:
    """A regex for an SVG path with at least ``n`` points."""
    return re.compile(r"^M[\d.,-]+" + r"(?:[ML][\d.,-]+)" * (n - 1))


async def test_resident_page_keeps_red_with_no_data_since_when_the_gauge_goes_quiet(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
) -> None:
    """Zhapu red, then silent past its stale limit (scaled clock): the card stays red and says
    "No data since HH:MM" in English and in Chinese; the advice is the storm-surge advice."""
    from marine_watch.clock import ScaledClock

    clock = ScaledClock(time.time(), 600.0)
    async with (
        serve(make_settings(mosquitto), clock=clock) as app,
        connect(f"{app.ws}/ws/risk") as ws,
    ):
        await ws.recv()
        page = await open_resident(browser, app.http)
        await zhapu_red(app, mosquitto, topic_root)
        card = page.get_by_test_id("risk-card")
        await expect(card).to_have_attribute("data-colour", "red", timeout=scaled(15) * 1000)
        await expect(page.get_by_test_id("nodata")).to_have_attribute(
            "data-held", "1", timeout=scaled(15) * 1000
        )
        await expect(card).to_have_attribute("data-colour", "red")
        await expect(page.get_by_test_id("why")).to_contain_text("No data since")
        await expect(page.locator("#todo")).to_have_attribute("data-hazard", "storm_surge")
        await page.screenshot(path=artifacts / "resident-no-data-since.png", full_page=True)
        await page.get_by_test_id("lang-button").click()
        await expect(page.get_by_test_id("why")).to_contain_text("起无数据")
        await expect(page.get_by_test_id("nodata")).to_contain_text("起无数据")
        assert errors_of(page) == []
