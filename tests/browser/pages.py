"""Helpers of the browser tests (not fixtures)."""

import asyncio
import json
import time
import weakref
from collections.abc import Callable
from typing import Any

import aiomqtt
from playwright.async_api import Browser, Page, expect

from tests.helpers import Running
from tests.services import Broker, scaled

#: The uncaught errors of each page ``open_page`` opened (``errors_of``).
_ERRORS: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()


def errors_of(page: Page) -> list[str]:
    """The uncaught errors ``page`` has thrown since ``open_page`` opened it."""
    return _ERRORS[page]


async def open_page(browser: Browser, url: str, **context: Any) -> Page:
    """A page of a new context with its uncaught errors collected (``errors_of``), once the
    page says it is ready (``body[data-ready=1]``)."""
    ctx = await browser.new_context(**context)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _ERRORS[page] = errors
    await page.goto(url)
    await expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=15_000)
    return page


HARBOUR = (30.60, 121.07)  # inside the zhapu-harbour village (SAMPLE polygon)


async def open_resident(browser: Browser, http: str, **context: Any) -> Page:
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


async def publish(broker: Broker, topic: str, items: list[tuple[float, float]]) -> None:
    """Readings (time, metres) on one topic, QoS 1, from a client of their own."""
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"pub-{time.monotonic_ns()}"
    ) as client:
        for ts, value in items:
            payload = {"ts": int(ts * 1000), "value": round(value, 3), "unit": "m"}
            await client.publish(topic, json.dumps(payload).encode(), qos=1)


async def zhapu_red(app: Running, broker: Broker, topic_root: str) -> None:
    """Zhapu's gauge at 5.6 m (above its SAMPLE red warning tide level, 5.40 m) three times."""
    now = app.services.clock.now()
    await publish(broker, f"{topic_root}/zhapu/tide_level", [(now - 60 * i, 5.6) for i in range(3)])


async def wait_ws(
    app: Running, ws: Any, predicate: Callable[[dict[str, Any]], bool], within_s: float
) -> dict[str, Any]:
    """The first message on ``ws`` that ``predicate`` accepts, within ``within_s`` (scaled)."""
    async with asyncio.timeout(scaled(within_s)):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if predicate(message):
                return message
