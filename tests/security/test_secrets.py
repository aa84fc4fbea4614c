"""Secrets stay secret: no key in a URL, none in a log line, InfluxDB auth by header, every client
built from the settings. Probed against the real service, a real InfluxDB with accounts and the
real log pipeline (structlog and uvicorn's loggers)."""

import asyncio
import io
import json
import logging
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from marine_watch import logs
from marine_watch.auth.keys import hash_key
from marine_watch.mqtt.session import make_client, side_client
from marine_watch.settings import Settings
from marine_watch.store.factory import open_configured_store
from marine_watch.store.influx import InfluxStore
from tests.helpers import present
from tests.integration.conftest import serve
from tests.security.broker import ROOT, SecuredBroker
from tests.security.certs import Pki
from tests.security.traffic import publish_as, reading, wait_stored
from tests.services import CONFIG_DIR, Broker, Influx, start_influxd

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

DUTY = "mw_duty-officer-key-for-the-log-test-0123456789"
HARBOUR = {"lat": "30.60512", "lon": "121.07134"}  # a resident's position


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The service's real logging set-up (as `marine-watch serve`) writing into a buffer, with
    uvicorn's access log on too."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure("INFO")
    structlog.configure(cache_logger_on_first_use=False)  # later tests capture these loggers
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()


async def test_keys_passwords_and_positions_reach_no_log_line(
    mosquitto: Broker, make_settings: Callable[..., Settings], log_lines: io.StringIO
) -> None:
    """A key in a websocket URL is refused (1008) and masked in the log; positions in URLs, the
    configured passwords and keys in free text are masked in every logger's lines."""
    password = "influx-password-" + "5e1b77"
    settings = make_settings(
        mosquitto,
        api_keys=(f"ops:duty_officer:{hash_key(DUTY)}",),
        influx_username="mw",
        influx_password=password,  # configured (SQLite in use): a secret to mask all the same
        log_ws_connections=True,  # uvicorn's per-websocket lines (off by default) are masked too
    )
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        async with connect(f"{app.ws}/ws/feeds?station=zhapu&token={DUTY}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert present(closed.value.rcvd).code == 1008
        assert "URL" in present(closed.value.rcvd).reason
        query = f"lat={HARBOUR['lat']}&lon={HARBOUR['lon']}"
        async with connect(f"{app.ws}/ws/risk?{query}") as ws:
            await ws.recv()
        assert (await http.get(f"/api/v1/risk?{query}")).status_code in (200, 404)
        async with connect(f"{app.ws}/ws/feeds", additional_headers={"X-API-Key": DUTY}) as ws:
            await ws.ping()
        async with connect(f"{app.ws}/ws/alerts") as ws:
            await ws.send(json.dumps({"type": "auth", "key": DUTY}))
            assert json.loads(await ws.recv())["type"] == "hello"
        structlog.get_logger("probe").warning(
            "probe", detail=f"Authorization: Bearer {DUTY} with {password}", password=password
        )
        logging.getLogger("uvicorn.error").warning("stdlib line with %s and %s", DUTY, password)
    err = log_lines.getvalue()
    assert "/ws/feeds" in err  # uvicorn logged the connections...
    assert "/api/v1/risk" in err
    assert '"probe"' in err or "probe" in err
    for secret in (DUTY, password, HARBOUR["lat"], HARBOUR["lon"], DUTY[3:20]):
        assert secret not in err, secret  # ...with no key, password or position in them
    assert "token=***" in err
    assert "lat=***" in err


async def test_influxdb_account_goes_in_a_header_and_a_refused_one_degrades_health(
    secured: SecuredBroker, service_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """InfluxDB 1.x with accounts: readings are stored with the account sent as HTTP Basic auth
    (influxd's request log holds no password); a wrong password makes /health 503 and says why."""
    password = "influx-" + "c0ffee-77"
    influx = start_influxd(tmp_path / "influxd", admin=("mw", password))
    try:
        good = service_settings(
            store="influxdb",
            influx_url=influx.url,
            influx_db="marine",
            influx_username="mw",
            influx_password=password,
        )
        async with serve(good) as app, httpx.AsyncClient(base_url=app.http) as http:
            topic = f"{ROOT}/zhapu/tide_level"
            await publish_as(
                secured.field, secured.station("zhapu"), [(topic, reading(1.2), False)]
            )
            assert await wait_stored(http, "zhapu", 1) == [1.2]
            health = await http.get("/health")
            assert health.status_code == 200, health.text
        await _flush_log(influx)
        requests = influx.log.read_text(errors="replace")
        assert "/write?" in requests  # influxd logged each request line...
        assert password not in requests  # ...none with the password
        assert "p=" not in requests.replace("precision=", "")
        bad = service_settings(
            store="influxdb",
            influx_url=influx.url,
            influx_db="marine",
            influx_username="mw",
            influx_password=password + "-wrong",
        )
        async with serve(bad) as app, httpx.AsyncClient(base_url=app.http) as http:
            health = await http.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "degraded"
        assert "401" in body["store"]["problem"]
        assert password not in health.text
    finally:
        influx.stop()


async def _flush_log(influx: Influx) -> None:
    for _ in range(50):
        if "/write?" in influx.log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)


#: Every setting that says how a client reaches something, and where the test below checks it.
CLIENT_SETTINGS = {
    "mqtt_url",
    "mqtt_client_id",
    "mqtt_protocol",
    "mqtt_username",
    "mqtt_password",
    "mqtt_password_file",
    "mqtt_ca_file",
    "influx_url",
    "influx_db",
    "influx_token",
    "influx_username",
    "influx_password",
}


async def test_every_client_is_built_from_the_settings(pki: Pki, tmp_path: Path) -> None:
    """The ingest, forecast and risk MQTT clients and the store take every client setting; a new
    mqtt_*/influx_* setting must be added here, so none can be silently dropped again."""
    known = {n for n in Settings.model_fields if n.startswith(("mqtt_", "influx_"))}
    assert known - {"mqtt_topic_root", "mqtt_shared_group"} == CLIENT_SETTINGS
    secret = tmp_path / "service.password"
    secret.write_text("file-password-9a8b\n")
    settings = Settings(
        config_dir=CONFIG_DIR,
        data_dir=tmp_path / "data",
        mqtt_url="mqtts://localhost:18883",
        mqtt_client_id="mw-under-test",
        mqtt_protocol="3.1.1",
        mqtt_username="svc-under-test",
        mqtt_password_file=secret,
        mqtt_ca_file=pki.ca,
        store="influxdb",
        influx_url="http://127.0.0.1:18086",
        influx_db="db-under-test",
        influx_username="influx-user",
        influx_password="influx-pass-5566",
    )
    clients = {
        "mw-under-test": make_client(settings),
        "mw-under-test-forecast": side_client(settings, "forecast"),
        "mw-under-test-risk": side_client(settings, "risk"),
    }
    for identifier, client in clients.items():
        paho = client._client
        assert (client._hostname, client._port) == ("localhost", 18883)
        assert paho._client_id == identifier.encode()
        assert paho.protocol == 4  # MQTTv311
        assert (paho.username, paho.password) == ("svc-under-test", "file-password-9a8b")
        context = paho._ssl_context
        assert context is not None
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
        assert context.get_ca_certs()  # the CA file was loaded
    async with open_configured_store(settings) as store:
        assert isinstance(store, InfluxStore)
        assert store.db == "db-under-test"
        request = store._http.build_request("GET", "/query")
        assert str(request.url).startswith("http://127.0.0.1:18086/query")
        flow = present(store._http.auth).auth_flow(request)
        assert (
            next(flow).headers["Authorization"] == "Basic aW5mbHV4LXVzZXI6aW5mbHV4LXBhc3MtNTU2Ng=="
        )
    token = settings.model_copy(update={"influx_token": settings.influx_password})
    async with open_configured_store(token) as store:
        assert isinstance(store, InfluxStore)
        request = store._http.build_request("GET", "/query")
        assert request.headers["Authorization"] == "Token influx-pass-5566"
    assert "influx-pass-5566" not in repr(settings)
    assert "file-password-9a8b" not in repr(settings)
