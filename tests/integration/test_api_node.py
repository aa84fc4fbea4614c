"""An API node (MARINE_WATCH_NODE_ROLE=api) beside a risk node on the real Mosquitto, set up as
`marine-watch mqtt-accounts` writes it: the API node reads the retained risk topics with its own
reader account and answers as the risk node does, pushes changes on its own /ws/risk, says how old
its colours are, and shows "no data" instead of stale colours once the risk node falls silent."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect

from marine_watch.mqtt.accounts import ACCOUNTS_JSON
from marine_watch.settings import Settings
from risk_models import tide as tide_model
from tests.helpers import JsonObject, json_of
from tests.integration.conftest import Running, serve
from tests.security.broker import ROOT, SecuredBroker, start_secured
from tests.security.traffic import publish_as, reading
from tests.services import CONFIG_DIR, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]
IDENTIFIER = re.compile(r"<(?:\w+:)?identifier>([^<]+)</")
HARBOUR = {"lat": 30.605, "lon": 121.07}  # Zhapu Harbour Community (village of station zhapu)
VILLAGE = "zhapu-harbour"
XITANG = {"lat": 30.556, "lon": 120.975}  # Xitangqiao Coast Community, the second (haiyan) region
SAME = ("level", "colour", "explanation", "no_data", "no_data_since", "since_s", "zone", "chain")


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecuredBroker]:
    secured = start_secured(tmp_path / "broker", monkeypatch)
    yield secured
    secured.stop()


@pytest.fixture
def nodes(tmp_path: Path, broker: SecuredBroker) -> Callable[..., Settings]:
    """Settings of a risk node (the service's account) or an API node (a reader account)."""

    def make(role: str, name: str, **extra: object) -> Settings:
        values: dict[str, Any] = {
            "config_dir": CONFIG_DIR,
            "data_dir": tmp_path / name,
            "store": "sqlite",
            "risk_tick_s": 0.5,
            "node_role": role,
            **broker.service_settings(),
        }
        if role == "api":
            reader = broker.accounts.readers[name]
            secret = tmp_path / f"{name}.password"
            secret.write_text(reader.password, encoding="utf-8")
            values.update(  # the field listener, as any reader
                mqtt_url=f"mqtt://{broker.field.host}:{broker.field.port}",
                mqtt_username=reader.username,
                mqtt_password_file=secret,
            )
        values.update(extra)
        return Settings(**values)

    return make


async def tide(broker: SecuredBroker, *values: float) -> None:
    """Zhapu's tide gauge reports ``values``, one a minute, the last one now."""
    now = time.time()
    n = len(values)
    await publish_as(
        broker.field,
        broker.station("zhapu"),
        [
            (f"{ROOT}/zhapu/tide_level", reading(v, now - 60 * (n - 1 - i)), False)
            for i, v in enumerate(values)
        ],
        client_id=f"zhapu-{time.monotonic_ns()}",
    )


async def answer(node: Running) -> JsonObject:
    async with httpx.AsyncClient(base_url=node.http) as http:
        got = await http.get("/api/v1/risk", params=HARBOUR)
        assert got.status_code == 200, got.text
        return json_of(got)


async def until_level(
    node: Running, level: int | Callable[[int], bool], within_s: float
) -> JsonObject:
    wanted = level if callable(level) else level.__eq__
    got: JsonObject = {}
    try:
        async with asyncio.timeout(scaled(within_s)):
            while not wanted((got := await answer(node))["level"]):  # noqa: ASYNC110 - polling the API
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"still not level {level} after {within_s} s: {got}")
    return got


async def calm(broker: SecuredBroker, node: Running) -> None:
    """Zhapu's tide gauge reports the predicted tide for the last two minutes: no surge.

    Two readings: fewer than the spike test's three neighbours, so a surge reading after them is
    not taken for a spike (config/qc.toml).
    """
    now = time.time()
    times = np.array([now - 60, now])
    predicted = tide_model.predict(node.services.pipeline.assessor.constants["zhapu"], times)
    await publish_as(
        broker.field,
        broker.station("zhapu"),
        [
            (f"{ROOT}/zhapu/tide_level", reading(round(float(v), 2), float(t)), False)
            for t, v in zip(times, predicted, strict=True)
        ],
        client_id=f"zhapu-{time.monotonic_ns()}",
    )


async def ws_change(ws: ClientConnection, place: str, level: int, within_s: float) -> float:
    """Wait for ``place`` at ``level`` on a /ws/risk; the monotonic time it arrived."""
    async with asyncio.timeout(scaled(within_s)):
        while True:
            message = json.loads(await ws.recv())
            if message.get("id") == place and message.get("level") == level:
                return time.monotonic()


async def test_an_api_node_answers_as_the_risk_node_from_the_retained_topics(
    broker: SecuredBroker, nodes: Callable[..., Settings]
) -> None:
    """Started after the risk node, the API node answers at once with the risk node's answer; a
    change reaches its /ws/risk within 1 s of the risk node's; both show the same CAP feed."""
    async with AsyncExitStack() as stack:
        risk = await stack.enter_async_context(serve(nodes("risk", "risk")))
        await calm(broker, risk)
        before = await until_level(risk, lambda lv: 0 <= lv < 4, 15)

        api = await stack.enter_async_context(serve(nodes("api", "api-1")))
        first = await answer(api)  # no wait: the retained state arrived on subscription
        for key in SAME:
            assert first[key] == before[key], key
        assert [h["level"] for h in first["outlook"]] == [h["level"] for h in before["outlook"]]
        assert first["shelters"] == before["shelters"]
        assert first["contact"] == before["contact"]
        fresh = first["freshness"]
        assert isinstance(fresh, dict)
        assert fresh["stale"] is False
        assert 0 <= fresh["colours_age_s"] < 5

        risk_ws = await stack.enter_async_context(connect(f"{risk.ws}/ws/risk"))
        api_ws = await stack.enter_async_context(connect(f"{api.ws}/ws/risk"))
        for ws in (risk_ws, api_ws):
            snapshot = json.loads(await ws.recv())
            assert snapshot["type"] == "snapshot"
            places = {p["id"]: p["level"] for p in snapshot["places"]}
            assert places[VILLAGE] == before["level"]
            zhapu = next(s for s in snapshot["stations"] if s["id"] == "zhapu")
            assert zhapu["status"] == "ok"

        await tide(broker, 5.6)  # red
        on_risk, on_api = await asyncio.gather(
            ws_change(risk_ws, VILLAGE, 4, 15), ws_change(api_ws, VILLAGE, 4, 15)
        )
        assert on_api - on_risk < 1.0, f"the API node's push came {on_api - on_risk:.2f} s later"
        after = await until_level(api, 4, 3)
        expected = await answer(risk)
        for key in SAME:
            assert after[key] == expected[key], key

        async with (
            httpx.AsyncClient(base_url=risk.http) as rh,
            httpx.AsyncClient(base_url=api.http) as ah,
        ):
            async with asyncio.timeout(scaled(10)):
                while True:
                    feeds = [(await h.get("/api/v1/alerts.atom")).text for h in (rh, ah)]
                    idents = [IDENTIFIER.findall(f) for f in feeds]
                    if idents[0] and idents[0] == idents[1]:
                        break
                    await asyncio.sleep(0.1)
            ident = idents[1][0]
            caps = [await h.get(f"/api/v1/alerts/{ident}.cap") for h in (rh, ah)]
            assert [c.status_code for c in caps] == [200, 200]
            assert caps[1].text == caps[0].text.replace(risk.http, api.http)
            zones = (await ah.get("/api/v1/zones")).json()
            levels = {f["id"]: f["properties"]["level"] for f in zones["features"]}
            assert levels[VILLAGE] == 4
            assert zones["freshness"]["stale"] is False
            # What an API node cannot answer from the retained state, it refuses and says why.
            refused = await ah.get("/api/v1/stations/zhapu/readings")
            assert refused.status_code == 503
            assert "public answers only" in refused.json()["detail"]
            assert (await ah.get("/api/v1/stations/zhapu")).json()["last"]["tide_level"][
                "value"
            ] == 5.6
            health = (await ah.get("/health")).json()
            assert (health["node_role"], health["mqtt"]) == ("api", "connected")


async def test_an_api_node_says_no_data_when_its_risk_node_falls_silent(
    broker: SecuredBroker, nodes: Callable[..., Settings]
) -> None:
    """Past colours_max_age_s without a heartbeat, the API node answers level -1 ("no data") with
    the age of the colours, and pushes that; a risk node that is back restores the colours."""
    async with AsyncExitStack() as outer:
        api = await outer.enter_async_context(serve(nodes("api", "api-2", colours_max_age_s=2.0)))
        async with serve(nodes("risk", "risk")) as risk:
            await tide(broker, 5.6, 5.6)
            red = await until_level(api, 4, 15)
            assert red["colour"] == "red"
            expected = await answer(risk)
            assert {k: red[k] for k in SAME} == {k: expected[k] for k in SAME}
            api_ws = await outer.enter_async_context(connect(f"{api.ws}/ws/risk"))
            snapshot = json.loads(await api_ws.recv())
            assert snapshot["freshness"]["stale"] is False
        silent_at = time.monotonic()  # the risk node has stopped: no more heartbeats

        await ws_change(api_ws, VILLAGE, -1, 10)
        assert time.monotonic() - silent_at < scaled(2.0 + 3.0)
        gone = await answer(api)
        assert (gone["level"], gone["colour"]) == (-1, "unknown")
        assert gone["freshness"]["stale"] is True
        assert gone["freshness"]["colours_age_s"] > 2.0
        assert "no colours from the risk node" in str(gone["explanation"])
        assert [c["colour"] for c in gone["chain"]] == ["unknown"] * 3

        async with serve(nodes("risk", "risk")):  # back, cold (a risk node stores no reading)
            await tide(broker, 5.6)
            await ws_change(api_ws, VILLAGE, 4, 15)
            back = await until_level(api, 4, 3)
            assert back["freshness"]["stale"] is False


def test_the_api_reader_accounts_are_generated(broker: SecuredBroker) -> None:
    """Each API node has its own reader account: read the risk topics, write nothing."""
    doc = json.loads((broker.folder / ACCOUNTS_JSON).read_text(encoding="utf-8"))
    assert {"api-1", "api-2"} <= set(doc["readers"])
    acl = (broker.folder / "acl").read_text(encoding="utf-8")
    block = acl.split("user reader-api-1\n")[1].split("\n\n")[0].split("user ")[0]
    assert block.strip() == f"topic read {ROOT}/risk/#"


async def wind(broker: SecuredBroker, station: str, speed: float) -> None:
    """A wind mast reports ``speed`` m/s twice, the last time now."""
    now = time.time()
    body = [
        (
            f"{ROOT}/{station}/wind_speed",
            json.dumps({"ts": int(t * 1000), "value": speed}).encode(),
            False,
        )
        for t in (now - 30, now)
    ]
    await publish_as(
        broker.field, broker.station(station), body, client_id=f"w-{time.monotonic_ns()}"
    )


async def test_regional_risk_nodes_share_the_coast_and_an_api_node_serves_both(
    broker: SecuredBroker, nodes: Callable[..., Settings]
) -> None:
    """Each risk node evaluates its region only (never seeing, nor dead-lettering, the other's
    readings); the API node serves both regions and marks only the silent one's colours stale."""
    async with AsyncExitStack() as stack:
        pinghu = await stack.enter_async_context(
            serve(nodes("risk", "risk-pinghu", regions=("pinghu",), mqtt_client_id="mw-pinghu"))
        )
        api = await stack.enter_async_context(serve(nodes("api", "api-1", colours_max_age_s=2.0)))
        haiyan_settings = nodes(
            "risk", "risk-haiyan", regions=("haiyan",), mqtt_client_id="mw-haiyan"
        )
        async with serve(haiyan_settings) as haiyan:
            await calm(broker, pinghu)
            await wind(broker, "mast-xitangqiao", 30.0)
            async with httpx.AsyncClient(base_url=api.http) as http:
                async with asyncio.timeout(scaled(15)):
                    while True:
                        zones = (await http.get("/api/v1/zones")).json()
                        levels = {f["id"]: f["properties"]["level"] for f in zones["features"]}
                        if levels["xitangqiao-coast"] >= 1 and levels[VILLAGE] >= 0:
                            break
                        await asyncio.sleep(0.05)
                got = (await http.get("/api/v1/risk", params=XITANG)).json()
                assert got["zone"]["id"] == "xitangqiao-coast"
                assert got["level"] >= 1
                assert got["shelters"][0]["id"] == "s-xitangqiao-school"
            # Each risk node knows its own region only, and took no other station for unknown.
            pairs = ((pinghu, VILLAGE, "xitangqiao-coast"), (haiyan, "xitangqiao-coast", VILLAGE))
            for node, mine, other in pairs:
                current = node.services.pipeline.book.current
                assert mine in current
                assert other not in current
                assert await node.services.dead_letters.query(limit=10) == []
            received = haiyan.services.metrics.registry.get_sample_value(
                "mw_readings_received_total", {"kind": "tide_level"}
            )
            assert received in (None, 0.0)
        async with httpx.AsyncClient(base_url=api.http) as http:
            async with asyncio.timeout(scaled(10)):
                gone = (await http.get("/api/v1/risk", params=XITANG)).json()
                while gone["level"] != -1:
                    await asyncio.sleep(0.1)
                    gone = (await http.get("/api/v1/risk", params=XITANG)).json()
            assert gone["freshness"]["stale_regions"] == ["haiyan"]
            assert "haiyan" in str(gone["explanation"])
            still = await answer(api)
            assert still["level"] >= 0  # Pinghu's risk node still speaks


def test_only_a_risk_node_takes_regions_and_they_must_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """MARINE_WATCH_REGIONS (comma-separated) on another role, or naming no region, stops start-up."""
    from marine_watch.app import create_app
    from marine_watch.errors import ConfigError
    from marine_watch.settings import load_settings

    monkeypatch.setenv("MARINE_WATCH_REGIONS", "pinghu,haiyan")
    monkeypatch.setenv("MARINE_WATCH_NODE_ROLE", "risk")
    assert load_settings().regions == ("pinghu", "haiyan")
    monkeypatch.setenv("MARINE_WATCH_NODE_ROLE", "api")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.key == "regions"
    settings = Settings(
        config_dir=CONFIG_DIR, data_dir=tmp_path, node_role="risk", regions=("atlantis",)
    )
    with pytest.raises(ConfigError) as err:
        create_app(settings)
    assert "atlantis" in str(err.value)
    assert "haiyan" in str(err.value)


def test_an_api_node_serves_exactly_the_public_answers() -> None:
    """What an API node can rebuild from the risk topics passes; the rest is refused (503)."""
    from marine_watch.api.nodes import api_serves

    served = ["/", "/resident", "/static/map.js", "/health", "/docs", "/api/v1/risk"]
    served += ["/api/v1/zones", "/api/v1/zones/zhapu", "/api/v1/segments", "/api/v1/stations"]
    served += ["/api/v1/stations/zhapu", "/api/v1/alerts.atom", "/api/v1/alerts/mw-x.cap"]
    served += ["/ws/risk"]
    refused = ["/api/v1/zones/zhapu/history", "/api/v1/stations/zhapu/readings", "/ws/feeds"]
    refused += ["/api/v1/stations/zhapu/lift", "/api/v1/alerts", "/api/v1/alerts/mw-x"]
    refused += ["/api/v1/dead-letters", "/api/v1/roads", "/api/v1/forecasts", "/ws/alerts"]
    refused += ["/api/v1/webhooks", "/api/v1/users", "/api/v1/segments/d-zhapu/overtopping"]
    assert [p for p in served if not api_serves(p)] == []
    assert [p for p in refused if api_serves(p)] == []
