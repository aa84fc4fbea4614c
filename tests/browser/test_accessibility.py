"""The pages with a keyboard alone, for a screen reader, and under axe-core (run offline).

A duty officer who cannot use a mouse reaches every station (list and map) and every alert with
Tab, opens them with Enter or Space and sees where the focus is; the colour, the alerts and the
connection state are said in aria-live regions; the alert list comes in one request.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, Request, expect
from websockets.asyncio.client import connect

from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from tests.browser.pages import errors_of, open_page, open_resident, wait_ws, zhapu_red
from tests.helpers import serve
from tests.services import Broker, scaled

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.timeout(240)]
DUTY_KEY = "a11y-duty-officer-key"
WIDE = {"width": 1600, "height": 900}
# What the focused element is: its test id, the station or alert it stands for, and whether a
# focus ring (outline, or the map marker's ring) shows.
FOCUSED = """() => {
  const n = document.activeElement;
  if (!n || n === document.body) return null;
  const ring = n.querySelector?.(":scope > .ring");
  const style = getComputedStyle(n);
  return {
    testid: n.dataset?.testid || n.getAttribute("data-testid") || "",
    station: n.dataset?.station || "", alert: n.dataset?.alert || "", tag: n.tagName.toLowerCase(),
    ring: style.outlineStyle !== "none" && style.outlineWidth !== "0px"
      || (ring !== null && getComputedStyle(ring).opacity === "1"),
  };
}"""


async def _tab_until(page: Page, wanted: Any, limit: int = 120) -> list[dict[str, Any]]:
    """Press Tab until ``wanted(focused)`` holds; every stop on the way, the last one included."""
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
        if focused is None:
            continue
        stops.append(focused)
        if wanted(focused):
            return stops
    msg = f"not reached in {limit} Tabs; stops: {stops}"
    raise AssertionError(msg)


async def _red_dashboard(browser: Any, app: Any, ws: Any, mosquitto: Any, topic_root: str) -> Page:
    """The dashboard, signed in, once Zhapu Harbour is red and its alert is listed."""
    page = await open_page(browser, f"{app.http}/", viewport=WIDE, locale="en-GB")
    await page.evaluate(f"localStorage.setItem('mw.key', {DUTY_KEY!r})")
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    await zhapu_red(app, mosquitto, topic_root)
    await wait_ws(app, ws, lambda m: m.get("id") == "zhapu-harbour" and m.get("level") == 4, 15)
    harbour = page.get_by_test_id("alert").filter(has_text="Zhapu Harbour Community")
    await expect(harbour.first).to_be_visible(timeout=scaled(10) * 1000)
    return page


async def test_keyboard_alone_reaches_and_opens_stations_and_alerts(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
) -> None:
    """Tab reaches a station row, a map station and an alert, each with a visible focus; Enter
    opens a station, Space opens another from the map, Enter on Acknowledge acknowledges."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    async with serve(settings) as app, connect(f"{app.ws}/ws/risk") as ws:
        await ws.recv()
        page = await _red_dashboard(browser, app, ws, mosquitto, topic_root)
        await page.locator("body").focus()

        stops = await _tab_until(page, lambda f: f["station"] == "zhapu" and f["tag"] == "g")
        marker = stops[-1]
        assert marker["testid"] == "station-zhapu"
        assert marker["ring"], "the focused map station shows no focus ring"
        await page.keyboard.press(" ")
        await expect(page.locator("#station-title")).to_contain_text("Zhapu")
        await expect(page.get_by_test_id("station-zhapu")).to_have_attribute("aria-pressed", "true")

        stops = await _tab_until(page, lambda f: bool(f["alert"]))
        assert stops[-1]["ring"], "the focused alert shows no focus ring"
        await page.keyboard.press("Tab")
        button = await page.evaluate(FOCUSED)
        assert button["testid"] == "ack"
        assert button["ring"]
        await page.keyboard.press("Enter")
        acked = page.locator(f"[data-alert='{stops[-1]['alert']}'] [data-testid='acked']")
        await expect(acked).to_contain_text("duty_officer:ops")
        await expect(page.get_by_test_id("alerts-live")).to_contain_text("duty_officer:ops")

        stops = await _tab_until(page, lambda f: f["testid"] == "station-row-dushan")
        assert stops[-1]["ring"], "the focused station row shows no focus ring"
        await page.keyboard.press("Enter")
        await expect(page.locator("#station-title")).to_contain_text("Dushan")
        row = page.get_by_test_id("station-row-dushan")
        await expect(row).to_have_attribute("aria-pressed", "true")
        await expect(row).to_be_focused()  # the list was drawn anew; the focus stayed
        await page.screenshot(path=artifacts / "dashboard-keyboard.png")
        assert errors_of(page) == []


async def test_aria_live_regions_say_a_colour_change(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
) -> None:
    """Zhapu turns red: the dashboard's city level, its colour-change log and its alert region
    say so, and so does the resident page's card; both pages say their connection is live."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    async with serve(settings) as app, connect(f"{app.ws}/ws/risk") as ws:
        await ws.recv()
        page = await open_page(browser, f"{app.http}/", viewport=WIDE, locale="en-GB")
        await page.evaluate(f"localStorage.setItem('mw.key', {DUTY_KEY!r})")
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "1")
        resident = await open_resident(browser, app.http)
        card = resident.get_by_test_id("card-live")
        await expect(card).to_contain_text(
            "No current data for this place"
        )  # unknown before any reading
        for p in (page, resident):
            conn = p.get_by_test_id("connection")
            await expect(conn).to_have_attribute("aria-live", "polite")
            await expect(conn).to_have_attribute("data-state", "live")
        await expect(resident.get_by_test_id("connection")).to_contain_text("Live")

        city = page.locator("#city-live")
        await expect(city).to_have_attribute("aria-live", "polite")
        await expect(city).not_to_contain_text("Red")
        await expect(page.get_by_test_id("changes")).to_have_text("")
        await zhapu_red(app, mosquitto, topic_root)
        await wait_ws(app, ws, lambda m: m.get("id") == "zhapu-harbour" and m.get("level") == 4, 15)

        await expect(city).to_contain_text("City level")
        await expect(city).to_contain_text("Red")
        changes = page.get_by_test_id("changes")
        await expect(changes).to_have_attribute("aria-live", "polite")
        await expect(changes).to_contain_text("Zhapu Harbour Community:")
        await expect(changes).to_contain_text("→ Red")
        alerts_live = page.get_by_test_id("alerts-live")
        await expect(alerts_live).to_have_attribute("aria-live", "polite")
        await expect(alerts_live).to_contain_text("New alert", timeout=scaled(10) * 1000)
        await expect(card).to_have_attribute("aria-live", "polite")
        await expect(card).to_contain_text("RED warning", timeout=scaled(5) * 1000)
        assert errors_of(page) == []
        assert errors_of(resident) == []


async def test_the_alert_list_comes_in_one_request(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
) -> None:
    """Several open alerts and one acknowledged: opening the dashboard asks for the list once
    (with its acknowledgements) and never for an alert one by one."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    async with serve(settings) as app, connect(f"{app.ws}/ws/risk") as ws:
        await ws.recv()
        page = await _red_dashboard(browser, app, ws, mosquitto, topic_root)
        await page.get_by_test_id("ack").first.click()
        await expect(page.get_by_test_id("acked")).to_have_count(1)
        listed = await page.get_by_test_id("alert").count()
        assert listed >= 2  # one request for several alerts: N+1 would show

        asked: list[str] = []

        def note(request: Request) -> None:
            if "/api/v1/alerts" in request.url:
                asked.append(request.url.removeprefix(app.http))

        page.on("request", note)
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "1")
        await expect(page.get_by_test_id("alert")).to_have_count(listed)
        await expect(page.get_by_test_id("acked")).to_have_count(1)
        await page.wait_for_timeout(500)  # anything asked late would show here
        assert asked == ["/api/v1/alerts?active=true&limit=100&with=acks"]
        assert errors_of(page) == []


@pytest.mark.parametrize("page_name", ["dashboard", "resident"])
async def test_no_serious_accessibility_violations(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    artifacts: Path,
    page_name: str,
) -> None:
    """axe-core (shipped in axe-playwright-python, no network) finds no serious or critical
    violation on either page, with alerts listed and a colour shown."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    async with serve(settings) as app, connect(f"{app.ws}/ws/risk") as ws:
        await ws.recv()
        if page_name == "dashboard":
            page = await _red_dashboard(browser, app, ws, mosquitto, topic_root)
            await page.get_by_test_id("station-row-zhapu").click()
        else:
            page = await open_resident(browser, app.http)
            await zhapu_red(app, mosquitto, topic_root)
            card = page.get_by_test_id("risk-card")
            await expect(card).to_have_attribute("data-colour", "red", timeout=scaled(15) * 1000)
        await page.wait_for_timeout(500)  # the colour's transition (0.3 s) is over
        results = await Axe().run(page)
        await page.screenshot(path=artifacts / f"a11y-{page_name}.png", full_page=True)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == []
