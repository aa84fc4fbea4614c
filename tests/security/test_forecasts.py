"""Forged forecasts: one issued in 2099 is refused (it never expired and blocked the real
forecaster's newer ones); a newer genuine forecast replaces an older one; the public sees the
authenticated forecaster's configured name, never the payload's free-text ``source``."""

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest

from marine_watch.auth.keys import hash_key
from marine_watch.ingest.dead_letters import DeadLetters
from marine_watch.settings import Settings
from tests.integration.conftest import serve
from tests.security.broker import ROOT, SecuredBroker
from tests.security.traffic import publish_as
from tests.services import scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

ZMFO = "Zhejiang Marine Forecast Office (SAMPLE account)"  # config/mqtt_accounts.toml
KEY = "forecaster-key-for-the-forecast-test"


def iso(ts_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts_s))


def surge(issued_s: float, level_m: float, source: str = "Ministry of Truth") -> dict[str, object]:
    later = iso(time.time() + 3 * 3600)
    return {
        "station": "zhapu",
        "issued": iso(issued_s),
        "source": source,
        "high_waters": [{"ts": later, "level_m": level_m}],
    }


async def listed(
    http: httpx.AsyncClient, n_letters: int, letters: DeadLetters
) -> list[dict[str, object]]:
    """The forecasts listed once ``n_letters`` forecasts have been dead-lettered."""
    async with asyncio.timeout(scaled(15)):
        while len(await letters.query(reason="bad_forecast")) < n_letters:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    answer: list[dict[str, object]] = (await http.get("/api/v1/forecasts")).json()
    return answer


async def level_listed(http: httpx.AsyncClient, level_m: float) -> bool:
    """Poll until Zhapu's listed forecast has the high water ``level_m``."""
    async with asyncio.timeout(scaled(15)):
        while True:
            got = (await http.get("/api/v1/forecasts")).json()
            if got and got[0]["high_waters"][0]["level_m"] == level_m:
                return True
            await asyncio.sleep(0.05)


async def test_forged_forecasts_are_refused_and_the_source_is_the_account(
    secured: SecuredBroker, service_settings: Callable[..., Settings]
) -> None:
    """Over MQTT as the forecaster's account and over HTTP with a forecaster key."""
    settings = service_settings(api_keys=(f"zmfo:forecaster:{hash_key(KEY)}",))
    zmfo = secured.accounts.forecasters["zmfo"]
    own = f"{ROOT}/forecast/by/zmfo/zhapu"
    now = time.time()
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        letters = app.services.dead_letters
        future = json.dumps(surge(4_070_908_800, 20.0)).encode()  # issued 2099-01-01
        stale = json.dumps(surge(now - 13 * 3600, 20.0)).encode()  # older than 12 h
        await publish_as(secured.field, zmfo, [(own, future, False), (own, stale, False)])
        assert await listed(http, 2, letters) == []
        details = [str(d["detail"]) for d in await letters.query(reason="bad_forecast")]
        assert any("in the future" in d for d in details)
        assert any("older than" in d for d in details)

        first = json.dumps(surge(now - 60, 4.2)).encode()
        # under another forecaster's name: the broker refuses it (the name is the account's)
        other = f"{ROOT}/forecast/by/someone-else/zhapu"
        await publish_as(secured.field, zmfo, [(other, first, False), (own, first, False)])
        async with asyncio.timeout(scaled(15)):
            while not (got := (await http.get("/api/v1/forecasts")).json()):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert [(f["source"], f["high_waters"][0]["level_m"]) for f in got] == [(ZMFO, 4.2)]
        newer = json.dumps(surge(now, 4.6)).encode()
        await publish_as(secured.field, zmfo, [(own, newer, False)])
        assert await level_listed(http, 4.6)

        key = {"X-API-Key": KEY}
        refused = await http.post("/api/v1/forecasts", json=surge(4_070_908_800, 20.0), headers=key)
        assert refused.status_code == 422
        assert "future" in refused.text
        old = await http.post("/api/v1/forecasts", json=surge(now - 13 * 3600, 5.0), headers=key)
        assert old.status_code == 422
        posted = await http.post("/api/v1/forecasts", json=surge(time.time(), 4.8), headers=key)
        assert posted.status_code == 201, posted.text
        assert posted.json()["source"] == ZMFO  # the key's forecaster, not "Ministry of Truth"
        atom = (await http.get("/api/v1/alerts.atom")).text
        assert "Ministry of Truth" not in atom
    assert "Ministry of Truth" not in json.dumps(got)
