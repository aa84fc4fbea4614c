"""What a newcomer trips over on the pages: the key dialog, overlapping map labels, the page's clock."""

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest
from playwright.async_api import Browser, expect

from marine_watch.auth.keys import hash_key
from marine_watch.clock import ScaledClock
from marine_watch.settings import Settings
from tests.browser.pages import errors_of, open_page, open_resident
from tests.helpers import serve
from tests.services import Broker

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.timeout(180)]
DUTY_KEY = "details-duty-officer-key"


async def test_enter_in_the_key_dialog_signs_in(
    browser: Browser, mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """Typing the key and pressing Enter signs in (as OK does); ✕ closes without signing in."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    async with serve(settings) as app:
        page = await open_page(browser, f"{app.http}/", locale="en-GB")
        await page.get_by_test_id("key-button").click()
        await page.get_by_test_id("key-input").fill("not-this-one")
        await page.locator("#key-cancel").click()
        await expect(page.locator("#key-dialog")).not_to_be_visible()
        assert await page.evaluate("localStorage.getItem('mw.key')") is None

        await page.get_by_test_id("key-button").click()
        await page.get_by_test_id("key-input").fill(DUTY_KEY)
        await page.get_by_test_id("key-input").press("Enter")
        await expect(page.locator("#key-dialog")).not_to_be_visible()
        await expect(page.get_by_test_id("key-button")).to_contain_text("Sign out")
        assert await page.evaluate("localStorage.getItem('mw.key')") == DUTY_KEY
        await expect(page.get_by_test_id("alerts-signin")).to_have_count(0)
        assert errors_of(page) == []


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return min(a["right"], b["right"]) > max(a["left"], b["left"]) and min(
        a["bottom"], b["bottom"]
    ) > max(a["top"], b["top"])


BOXES = """() => {
  const rect = (n) => { const r = n.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
  const labels = [...document.querySelectorAll("#map .label-town, #map .label-village")]
    .map((n) => ({ name: n.textContent, ...rect(n) }));
  const stations = [...document.querySelectorAll("#map .station .body")]
    .map((n) => ({ name: n.closest("[data-station]").dataset.station, ...rect(n) }));
  stations.push({ name: "legend", ...rect(document.querySelector("#map .legend .bg")) });
  return { labels, stations };
}"""


@pytest.mark.parametrize(
    ("width", "height", "locale"),
    [(1600, 900, "en-GB"), (1280, 800, "zh-CN"), (1366, 768, "en-GB")],
)
async def test_map_labels_overlap_neither_each_other_nor_stations(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    artifacts: Path,
    width: int,
    height: int,
    locale: str,
) -> None:
    """Town and village names are all readable: no label covers another, a station or the legend."""
    async with serve(make_settings(mosquitto)) as app:
        page = await open_page(
            browser, f"{app.http}/", viewport={"width": width, "height": height}, locale=locale
        )
        boxes = await page.evaluate(BOXES)
        await page.screenshot(path=artifacts / f"map-{width}-{locale}.png")
    labels, stations = boxes["labels"], boxes["stations"]
    assert len(labels) == 13  # 4 towns, 9 villages (two regions)
    assert all(label["name"] for label in labels)
    clashes = [
        (a["name"], b["name"]) for a, b in itertools.combinations(labels, 2) if _overlaps(a, b)
    ]
    covered = [(a["name"], s["name"]) for a in labels for s in stations if _overlaps(a, s)]
    assert clashes == []
    assert covered == []


async def test_resident_page_shows_the_service_time(
    browser: Browser, mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """ "Updated" on the resident page is the service's clock (here a scenario in July 2021), in the
    coast's time (+08:00) whatever the browser's time zone (here UTC)."""
    start = datetime(2021, 7, 25, 18, 30, tzinfo=UTC).timestamp()
    async with serve(make_settings(mosquitto), clock=ScaledClock(start, 1.0)) as app:
        async with aiomqtt.Client(
            mosquitto.host, mosquitto.port, identifier=f"p-{time.time_ns()}"
        ) as c:
            item = {"ts": int(start * 1000), "value": 1.2, "unit": "m"}
            await c.publish(f"{topic_root}/zhapu/tide_level", json.dumps(item), qos=1)
        await asyncio.sleep(1.5)  # one evaluation
        page = await open_resident(browser, app.http, timezone_id="UTC")
        await expect(page.locator("#updated")).to_contain_text("26/07", timeout=10_000)
        await expect(page.locator("#updated")).to_contain_text("02:3")  # 18:3x UTC the day before
        assert errors_of(page) == []
