"""An alert nobody acknowledges shows its escalation on the dashboard, live, in headless Chromium."""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from tests.browser.pages import errors_of, open_page, zhapu_red
from tests.integration.conftest import serve
from tests.services import Broker, scaled

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.timeout(180)]
DUTY_KEY = "browser-escalation-duty-key"
TEAMS = """
[escalation]
status = "SAMPLE"
source = "docs/ALERTS.md §2"
delay_s = { village = 2, town = 600, city = 600 }

[[teams]]
id = "harbour"
name = "Harbour group"
zones = ["zhapu-harbour"]
escalate_to = "town"

[[teams]]
id = "town"
name = "Town office"
zones = ["zhapu"]
"""


async def test_dashboard_shows_an_unacknowledged_alert_escalated_to_the_next_team(
    browser: Browser,
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    """The village alert is not acknowledged: 2 s later its row says it went to the town office,
    pushed over /ws/alerts without a reload of the page; the API says the same."""
    teams = tmp_path / "teams.toml"
    teams.write_text(TEAMS, encoding="utf-8")
    settings = make_settings(
        mosquitto,
        teams_file=teams,
        escalation_check_s=0.2,
        api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",),
    )
    async with serve(settings) as app:
        page = await open_page(
            browser, f"{app.http}/", viewport={"width": 1600, "height": 900}, locale="en-GB"
        )
        await page.evaluate(f"localStorage.setItem('mw.key', {DUTY_KEY!r})")
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "1")
        await zhapu_red(app, mosquitto, topic_root)
        alert = page.get_by_test_id("alert").filter(has_text="Zhapu Harbour Community").first
        await expect(alert).to_be_visible(timeout=scaled(10) * 1000)
        await expect(alert.get_by_test_id("escalated")).to_have_count(0)
        escalated = alert.get_by_test_id("escalated")
        await expect(escalated).to_contain_text("Town office", timeout=scaled(10) * 1000)
        await expect(escalated).to_have_attribute("data-to", "town")
        identifier = await alert.get_attribute("data-alert")
        async with httpx.AsyncClient(base_url=app.http, headers={"X-API-Key": DUTY_KEY}) as http:
            body = (await http.get(f"/api/v1/alerts/{identifier}")).json()
        assert [s["to"] for s in body["escalations"]] == ["town"]
        await page.screenshot(path=artifacts / "dashboard-escalated.png")
        assert errors_of(page) == []
