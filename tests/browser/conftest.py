"""Headless Chromium (Debian's, never a downloaded one) and settings of a test alone."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from marine_watch.settings import Settings
from tests.integration.conftest import CONFIG_DIR
from tests.services import Broker

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless; fails (never skips) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        await launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def browser_settings(
    tmp_path: Path, topic_root: str, mqtt_client_id: str
) -> Callable[..., Settings]:
    """Settings of this test alone: its own topic root, client id and SQLite data dir."""

    def make(broker: Broker, **extra: object) -> Settings:
        values: dict[str, object] = {
            "config_dir": CONFIG_DIR,
            "data_dir": tmp_path / "data",
            "mqtt_url": broker.url,
            "mqtt_topic_root": topic_root,
            "mqtt_client_id": mqtt_client_id,
            "risk_tick_s": 0.5,
            "store": "sqlite",
            "batch_max_wait_s": 0.05,
            **extra,
        }
        return Settings(**values)  # type: ignore[arg-type]

    return make
