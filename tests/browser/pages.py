"""Helpers of the browser tests (not fixtures)."""

from playwright.async_api import Browser, Page, expect


async def open_page(browser: Browser, url: str, **context: object) -> Page:
    """A page of a new context with its uncaught errors collected in ``page.errors``, once the
    page says it is ready (``body[data-ready=1]``)."""
    ctx = await browser.new_context(**context)  # type: ignore[arg-type]
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(url)
    await expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=15_000)
    return page


HARBOUR = (30.60, 121.07)  # inside the zhapu-harbour village (SAMPLE polygon)


async def open_resident(browser: Browser, http: str, **context: object) -> Page:
    """The resident page on a phone-sized screen with the position granted in Zhapu Harbour."""
    lat, lon = HARBOUR
    return await open_page(
        browser,
        f"{http}/resident",
        viewport={"width": 390, "height": 844},
        geolocation={"latitude": lat, "longitude": lon},
        permissions=["geolocation"],
        locale="en-GB",
        **context,
    )
