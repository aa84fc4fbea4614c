"""A storm surge from calm to red and back, on the real Mosquitto and InfluxDB, in scaled time.

Zhapu's predicted tide (config/tide_constants) plus a surge is published as readings stamped with a
scenario clock 600 times faster than the wall clock, so the 1800 s hold time lasts 3 s.
"""

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import aiomqtt
import httpx
import numpy as np
import pytest
import structlog
import uvicorn
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect

from marine_watch.alerts.cap import ATOM_NS, CAP_NS
from marine_watch.alerts.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from marine_watch.auth.keys import hash_key
from marine_watch.clock import ScaledClock
from marine_watch.coast import load_catalogue, load_constants
from marine_watch.settings import Settings
from risk_models import tide
from tests.helpers import JsonObject, Running, cap_schema, present, serve
from tests.services import CONFIG_DIR, Broker, Influx, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(360)]
SPEED = 600.0
STEP_S = 60.0
KEYS = {"duty_officer": "t-duty", "emergency_team": "t-team", "forecaster": "t-forecast"}
HARBOUR = (30.60, 121.07)  # a point in the zhapu-harbour village (SAMPLE polygon)
NS = {"atom": ATOM_NS, "cap": CAP_NS}


def api_keys() -> tuple[str, ...]:
    return tuple(f"{role}-user:{role}:{hash_key(key)}" for role, key in KEYS.items())


@dataclass
class Collector:
    """Reads a websocket into a list in the background."""

    messages: list[JsonObject] = field(default_factory=list)

    async def run(self, ws: ClientConnection) -> None:
        async for raw in ws:
            self.messages.append(json.loads(raw))

    async def wait_for(
        self, predicate: Callable[[JsonObject], bool], within_s: float
    ) -> JsonObject:
        async with asyncio.timeout(scaled(within_s)):
            while True:
                for m in self.messages:
                    if predicate(m):
                        return m
                await asyncio.sleep(0.05)


@dataclass
class Receiver:
    """A tiny webhook receiver: records each request's headers and body."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append((headers, body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def start_receiver(
    receiver: Receiver,
) -> tuple[uvicorn.Server, asyncio.Task[None], str, socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(receiver, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]), name="receiver")
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}/hook", sock


class Coast:
    """Zhapu's tide gauge: predicted tide + surge, one reading per scenario minute."""

    def __init__(self, broker: Broker, root: str, clock: ScaledClock) -> None:
        catalogue = load_catalogue(CONFIG_DIR)
        from marine_watch.settings import Settings

        self.constants = load_constants(Settings(config_dir=CONFIG_DIR), catalogue)["zhapu"]
        self.broker, self.topic, self.clock = broker, f"{root}/zhapu/tide_level", clock
        self.surge_m = 0.0
        self.target_m = 0.0
        self.running = True

    def value(self, t_s: float) -> float:
        return float(tide.predict(self.constants, np.array([t_s]))[0]) + self.surge_m

    async def run(self) -> None:
        async with aiomqtt.Client(
            self.broker.host, self.broker.port, identifier=f"coast-{time.monotonic_ns()}"
        ) as client:
            now = self.clock.now()
            backfill = [
                {"kind": "tide_level", "ts": int(t * 1000), "value": self.value(t), "unit": "m"}
                for t in np.arange(now - 3600.0, now, STEP_S)
            ]
            await client.publish(
                self.topic.rsplit("/", 1)[0] + "/batch", json.dumps(backfill), qos=1
            )
            next_t = now
            while self.running:
                # the surge moves toward its target at 1 m per scenario hour
                step = STEP_S / 3600.0
                self.surge_m += float(np.clip(self.target_m - self.surge_m, -step, step))
                payload = {
                    "ts": int(next_t * 1000),
                    "value": round(self.value(next_t), 3),
                    "unit": "m",
                }
                await client.publish(self.topic, json.dumps(payload), qos=1)
                next_t += STEP_S
                await asyncio.sleep(max(0.0, (next_t - self.clock.now()) / SPEED))


def red_surge(coast: Coast, now_s: float) -> float:
    """A surge that puts every high water of the next day above Zhapu's red level (5.40 m)."""
    grid = now_s + np.arange(0.0, 86400.0, 600.0)
    hw = tide.high_low_waters(grid, tide.predict(coast.constants, grid))
    return 5.40 + 0.4 - float(hw.heights_m[hw.is_high].min())


async def test_surge_from_calm_to_red_and_back(
    mosquitto: Broker,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Colours rise to red at village, town and city; alerts go Alert→Update→Cancel to ws, webhook and CAP."""
    receiver = Receiver()
    rx_server, rx_task, hook_url, rx_sock = await start_receiver(receiver)
    settings = make_settings(
        mosquitto,
        influx=influxd,
        influx_db=influx_db,
        api_keys=api_keys(),
        webhook_allow_networks=("127.0.0.0/8",),
        webhook_backoff_s=0.2,
        risk_topics=True,
        rate_limit_per_s=1000.0,
        rate_limit_burst=1000,
    )
    clock = ScaledClock(time.time(), SPEED)
    coast = Coast(mosquitto, topic_root, clock)
    team = {"X-API-Key": KEYS["emergency_team"]}
    try:
        async with (
            serve(settings, clock=clock) as app,
            httpx.AsyncClient(base_url=app.http, timeout=10.0) as http,
        ):
            hook = await http.post(
                "/api/v1/webhooks",
                json={"url": hook_url, "zones": ["zhapu-harbour", "pinghu"], "tiers": []},
                headers=team,
            )
            assert hook.status_code == 201, hook.text
            secret, hook_id = hook.json()["secret"], hook.json()["id"]
            duty = {"Authorization": f"Bearer {KEYS['duty_officer']}"}
            road = await http.post(
                "/api/v1/roads",
                json={
                    "state": "flooded",
                    "text": "Harbour road under water",
                    "geometry": {"type": "Point", "coordinates": [121.071, 30.601]},
                },
                headers=duty,
            )
            assert road.status_code == 201, road.text

            risk, alerts = Collector(), Collector()
            async with (
                connect(f"{app.ws}/ws/risk") as ws_risk,
                connect(
                    f"{app.ws}/ws/alerts", additional_headers={"X-API-Key": KEYS["emergency_team"]}
                ) as ws_alerts,
            ):
                readers = [
                    asyncio.create_task(risk.run(ws_risk), name="ws-risk"),
                    asyncio.create_task(alerts.run(ws_alerts), name="ws-alerts"),
                ]
                publisher = asyncio.create_task(coast.run(), name="coast")
                try:
                    await _scenario(app, http, coast, risk, alerts, caplog)
                finally:
                    coast.running = False
                    await publisher
                    for r in readers:
                        r.cancel()
                    await asyncio.gather(*readers, return_exceptions=True)

            await _check_webhooks(http, receiver, secret, hook_id, team)
            await _check_cap_feed(http)
            await _check_risk_topic(mosquitto, topic_root)
            await _check_silent_station(alerts_http=http, duty=duty)
    finally:
        rx_server.should_exit = True
        await rx_task
        rx_sock.close()


def _zone(msg: JsonObject, zone: str) -> bool:
    return msg.get("type") == "zone" and msg.get("id") == zone


def _zone_at(zone: str, level: int) -> Callable[[JsonObject], bool]:
    return lambda m: _zone(m, zone) and m["level"] == level


async def _scenario(
    app: Running,
    http: httpx.AsyncClient,
    coast: Coast,
    risk: Collector,
    alerts: Collector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calm = await risk.wait_for(lambda m: _zone(m, "zhapu-harbour") and m["level"] >= 0, 15)
    assert calm["level"] <= 1, calm

    coast.target_m = red_surge(coast, app.services.clock.now())
    await risk.wait_for(lambda m: _zone(m, "zhapu-harbour") and m["level"] == 4, 40)
    for zone in ("zhapu", "pinghu"):
        await risk.wait_for(_zone_at(zone, 4), 5)
    zones = {f["id"]: f["properties"] for f in (await http.get("/api/v1/zones")).json()["features"]}
    assert zones["zhapu-harbour"]["level"] == 4
    assert zones["zhapu"]["level"] == 4  # town
    assert zones["pinghu"]["level"] == 4  # city
    assert zones["zhapu"]["explanation"]["via"] in {"zhapu-harbour", "tianfei"}
    assert zones["dushan"]["colour"] == "unknown"  # its stations never reported: no data, not none

    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        here = await http.get("/api/v1/risk", params={"lat": HARBOUR[0], "lon": HARBOUR[1]})
    assert here.status_code == 200
    answer = here.json()
    assert answer["colour"] == "red"
    assert answer["zone"]["id"] == "zhapu-harbour"
    assert [c["level"] for c in answer["chain"]] == [4, 4, 4]
    assert answer["explanation"]["hazard"] == "storm_surge"
    assert answer["shelters"]
    assert [r["text"] for r in answer["roads"]] == ["Harbour road under water"]
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = json.dumps(events, default=str) + " ".join(r.getMessage() for r in server_side)
    assert str(HARBOUR[0]) not in logged
    assert str(HARBOUR[1]) not in logged

    coast.target_m = 0.0
    # The surge falls at 1 m per scenario hour; persistence then holds the skew surge of the last
    # high water until the next one shows calm water (up to a tidal cycle, 12.4 h = 75 s here),
    # then the hold time (3 s): how long depends on the tide's phase at the wall-clock start.
    await alerts.wait_for(
        lambda m: m.get("subject_id") == "zhapu-harbour" and m.get("msg_type") == "Cancel", 150
    )
    levels = [m["level"] for m in risk.messages if _zone(m, "zhapu-harbour")]
    peak = levels.index(4)
    assert levels[: peak + 1] == sorted(levels[: peak + 1])  # rose step by step
    assert levels[-1] == 0
    chain = [  # the alert messages; escalation events (type "escalation") go on the same socket
        m for m in alerts.messages if m.get("subject_id") == "zhapu-harbour" and "msg_type" in m
    ]
    kinds = [m["msg_type"] for m in chain]
    assert kinds[0] == "Alert"
    assert kinds[-1] == "Cancel"
    assert set(kinds[1:-1]) == {"Update"}
    assert max(m["level"] for m in chain) == 4
    assert len({m["identifier"] for m in chain}) == len(chain)
    assert chain[-1]["references"] == [m["identifier"] for m in chain[:-1]]
    sent = [m["sent_s"] for m in chain]
    assert sent == sorted(sent)  # websocket messages in order

    history = (await http.get("/api/v1/zones/zhapu-harbour/history")).json()["items"]
    assert [h["level"] for h in history][-1] == 0
    assert 4 in [h["level"] for h in history]


async def _check_webhooks(
    http: httpx.AsyncClient, receiver: Receiver, secret: str, hook_id: str, team: dict[str, str]
) -> None:
    async with asyncio.timeout(scaled(15)):
        while not any(json.loads(b).get("msg_type") == "Cancel" for _, b in receiver.received):  # noqa: ASYNC110 - polling a condition
            await asyncio.sleep(0.05)
    for headers, body in receiver.received:
        ts = int(headers[TIMESTAMP_HEADER.lower()])
        assert headers[SIGNATURE_HEADER.lower()] == sign(secret, ts, body)
    bodies = [json.loads(b) for _, b in receiver.received]
    assert {b["subject_id"] for b in bodies} <= {"zhapu-harbour", "pinghu"}
    async with asyncio.timeout(scaled(15)):  # the Cancels of village and city may be a beat apart
        while True:
            log = (await http.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=team)).json()
            if {d["status"] for d in log["items"]} == {"delivered"}:
                break
            await asyncio.sleep(0.1)
    bodies = [json.loads(b) for _, b in receiver.received]

    first = bodies[0]["identifier"]
    ack = json.dumps({"note": "patrols out"}).encode()
    now = int(time.time())
    signed = {
        "X-MarineWatch-Subscription": hook_id,
        TIMESTAMP_HEADER: str(now),
        SIGNATURE_HEADER: sign(secret, now, ack),
        "Content-Type": "application/json",
    }
    ok = await http.post(f"/api/v1/alerts/{first}/ack", content=ack, headers=signed)
    assert ok.status_code == 201, ok.text
    replay = await http.post(f"/api/v1/alerts/{first}/ack", content=ack, headers=signed)
    assert replay.status_code == 401
    assert "replayed" in replay.json()["error"]
    unsigned = await http.post(
        f"/api/v1/alerts/{first}/ack", content=ack, headers={"X-MarineWatch-Subscription": hook_id}
    )
    assert unsigned.status_code == 401
    by_key = await http.post(f"/api/v1/alerts/{first}/ack", json={"note": "seen"}, headers=team)
    assert by_key.status_code == 201
    got = (await http.get(f"/api/v1/alerts/{first}", headers=team)).json()
    assert len(got["acknowledgements"]) == 2


async def _check_cap_feed(http: httpx.AsyncClient) -> None:
    feed = await http.get("/api/v1/alerts.atom")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    entries = root.findall("atom:entry", NS)
    assert entries
    schema = cap_schema()
    for entry in entries:
        schema.validate(ET.tostring(present(entry.find("atom:content/cap:alert", NS))))
    link = present(present(entries[0].find("atom:link", NS)).get("href"))
    cap = await http.get(link)
    assert cap.headers["content-type"].startswith("application/cap+xml")
    schema.validate(cap.content)


async def _check_risk_topic(broker: Broker, root: str) -> None:
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"risk-{time.monotonic_ns()}"
    ) as client:
        await client.subscribe(f"{root}/risk/zhapu-harbour", qos=1)
        async with asyncio.timeout(scaled(5)):
            message = await anext(aiter(client.messages))
    assert message.retain
    assert json.loads(bytes(message.payload))["level"] == 0


async def _check_silent_station(alerts_http: httpx.AsyncClient, duty: dict[str, str]) -> None:
    """With the gauge stopped, Zhapu goes stale and raises its own alert to duty officers."""
    async with asyncio.timeout(scaled(15)):
        while True:
            items = (await alerts_http.get("/api/v1/alerts", headers=duty)).json()["items"]
            if any(i["subject"] == "station" and i["subject_id"] == "zhapu" for i in items):
                break
            await asyncio.sleep(0.1)


async def test_external_forecast_raises_the_colour_and_names_its_source(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """A provincial forecast above persistence drives the colour (HTTP and MQTT); bad ones are refused."""
    settings = make_settings(mosquitto, api_keys=api_keys())
    async with (
        serve(settings) as app,
        httpx.AsyncClient(base_url=app.http, timeout=10.0) as http,
        aiomqtt.Client(
            mosquitto.host, mosquitto.port, identifier=f"fc-{time.monotonic_ns()}"
        ) as mqtt,
    ):
        now = app.services.clock.now()
        for station in ("zhapu", "dushan"):
            calm = [{"ts": int((now - 60 * i) * 1000), "value": 1.0, "unit": "m"} for i in range(3)]
            for item in calm:
                await mqtt.publish(f"{topic_root}/{station}/tide_level", json.dumps(item), qos=1)
        ahead = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3 * 3600))
        forecast = {
            "station": "zhapu",
            "issued": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "source": "Zhejiang provincial forecast (test)",
            "high_waters": [{"ts": ahead, "level_m": 5.5}],
        }
        refused = await http.post("/api/v1/forecasts", json=forecast)
        assert refused.status_code == 401
        fc_key = {"X-API-Key": KEYS["forecaster"]}
        unknown = await http.post(
            "/api/v1/forecasts", json={**forecast, "station": "buoy-zhapu"}, headers=fc_key
        )
        assert unknown.status_code == 422
        posted = await http.post("/api/v1/forecasts", json=forecast, headers=fc_key)
        assert posted.status_code == 201, posted.text
        by_zmfo = f"{topic_root}/forecast/by/zmfo/dushan"  # the broker's ACL: zmfo's account only
        await mqtt.publish(
            by_zmfo,
            json.dumps(
                {**forecast, "station": "dushan", "high_waters": [{"ts": ahead, "level_m": 5.3}]}
            ),
            qos=1,
        )
        await mqtt.publish(by_zmfo, b'{"station": "dushan"}', qos=1)

        async with asyncio.timeout(scaled(15)):
            while True:
                zones = {
                    f["id"]: f["properties"]
                    for f in (await http.get("/api/v1/zones")).json()["features"]
                }
                if zones["zhapu-harbour"]["level"] == 4 and zones["quantang"]["level"] == 4:
                    break
                await asyncio.sleep(0.1)
        explanation = zones["zhapu-harbour"]["explanation"]
        assert explanation["forecast_source"] == "forecaster-user"  # the key's name, not free text
        forecasts = {
            f["station"]: f["source"] for f in (await http.get("/api/v1/forecasts")).json()
        }
        assert forecasts["dushan"] == "Zhejiang Marine Forecast Office (SAMPLE account)"
        assert explanation["forecast_method"] == "external"
        assert explanation["value"] == 5.5
        assert explanation["persistence_m"] < 5.5
        duty = {"X-API-Key": KEYS["duty_officer"]}
        letters = (await http.get("/api/v1/dead-letters", headers=duty)).json()["items"]
        # ingest also sees {root}/forecast/# (as station "forecast") until it skips that subtree
        reasons = [d["reason"] for d in letters if d["topic"].endswith("by/zmfo/dushan")]
        assert reasons.count("bad_forecast") == 1
