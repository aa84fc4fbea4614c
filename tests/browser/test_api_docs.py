"""/docs (Swagger UI) and /redoc (ReDoc) of `marine-watch demo` render offline in headless Chromium.

Every request the pages make is recorded; any that is not for the demo itself is aborted (so the test
passes only without the internet) and fails the test. The pages' Content-Security-Policy keeps them on
the service: what it refuses never becomes a request, and is listed from the console to be checked.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route, expect

from tests.demo import running_demo

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.timeout(180)]
ENDPOINTS = ("/api/v1/risk", "/api/v1/zones", "/api/v1/stations", "/api/v1/alerts.atom")


@dataclass
class Visit:
    page: Page
    errors: list[str] = field(default_factory=list)  # uncaught exceptions and console errors
    requested: list[str] = field(default_factory=list)  # every request the page made
    elsewhere: list[str] = field(default_factory=list)  # requests for another host (aborted)
    policy_refused: list[str] = field(default_factory=list)  # never requested: the CSP said no


#: Chromium's console words for a load the Content-Security-Policy blocked (older and newer forms).
CSP_REFUSAL = re.compile(r"(?:Refused to load|Loading) the \w+ '([^']+)' (?:because it )?violates")


async def _open(browser: Browser, url: str) -> Visit:
    """Open ``url`` with every request recorded and any for another host aborted."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    visit = Visit(await ctx.new_page())
    origin = urlsplit(url).netloc

    async def only_the_service(route: Route) -> None:
        target = route.request.url
        visit.requested.append(target)
        if urlsplit(target).scheme in ("data", "blob") or urlsplit(target).netloc == origin:
            await route.continue_()
        else:
            visit.elsewhere.append(target)
            await route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        refused = CSP_REFUSAL.search(message.text)
        (visit.policy_refused if refused else visit.errors).append(
            refused.group(1) if refused else message.text
        )

    await ctx.route("**/*", only_the_service)
    visit.page.on("pageerror", lambda e: visit.errors.append(str(e)))
    visit.page.on("console", console)
    await visit.page.goto(url)
    return visit


async def test_swagger_ui_and_redoc_render_offline(
    browser: Browser, tmp_path: Path, artifacts: Path
) -> None:
    """Both pages list the endpoints, raise no error, and ask nothing of another host."""
    async with running_demo(tmp_path, "--speed", "60") as demo:
        docs = await _open(browser, f"{demo.http}/docs")
        await expect(docs.page.locator(".opblock").first).to_be_visible(timeout=20_000)
        paths = await docs.page.locator(".opblock-summary-path").all_inner_texts()
        for endpoint in ENDPOINTS:
            assert any(p.replace("\u200b", "").startswith(endpoint) for p in paths), endpoint
        await docs.page.screenshot(path=str(artifacts / "api-docs-swagger.png"))
        assert any(u.endswith("swagger-ui-bundle.js") for u in docs.requested)  # from the service
        assert docs.elsewhere == []
        assert docs.policy_refused == []
        assert docs.errors == []

        redoc = await _open(browser, f"{demo.http}/redoc")
        await expect(redoc.page.locator("[data-section-id]").first).to_be_attached(timeout=20_000)
        for endpoint in ENDPOINTS:
            await expect(redoc.page.get_by_text(endpoint, exact=False).first).to_be_attached()
        await redoc.page.screenshot(path=str(artifacts / "api-docs-redoc.png"))
        assert any(u.endswith("redoc.standalone.js") for u in redoc.requested)
        assert redoc.elsewhere == []
        # ReDoc's footer always asks a CDN for its logo; the page's policy refuses it unrequested
        assert set(redoc.policy_refused) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
        assert redoc.errors == []
