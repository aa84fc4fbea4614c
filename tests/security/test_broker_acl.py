"""On the generated broker set-up, with the real service: who may connect, publish and read what."""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import httpx
import pytest

from marine_watch.cli.main import main
from marine_watch.mqtt.client import Account, MqttEndpoint
from marine_watch.settings import Settings
from tests.helpers import serve
from tests.security.broker import ROOT, SecuredBroker
from tests.security.certs import Pki
from tests.security.traffic import (
    forecast,
    publish_as,
    reading,
    refused_events,
    retained,
    wait_stored,
)
from tests.services import CONFIG_DIR, HOST, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]


async def refusal(endpoint: MqttEndpoint, account: Account | None) -> str | None:
    """The broker's refusal of a CONNECT as ``account`` (None when it lets the client in)."""
    try:
        async with endpoint.client("probe", account, timeout=scaled(5)):
            return None
    except aiomqtt.MqttError as exc:
        return str(exc)


async def test_nobody_connects_without_an_account(secured: SecuredBroker, pki: Pki) -> None:
    """Anonymous clients and wrong passwords are refused on every listener; each account only on its own."""
    tls = MqttEndpoint(HOST, secured.tls_port or 0, tls=True, ca_file=pki.ca)
    service = MqttEndpoint(HOST, secured.service_port)
    zhapu, own = secured.station("zhapu"), secured.accounts.service
    for endpoint in (secured.field, tls, service):
        assert "Not authorized" in (await refusal(endpoint, None) or ""), endpoint
        wrong = Account(zhapu.username, zhapu.password + "x")
        assert await refusal(endpoint, wrong) is not None, endpoint
    assert (
        await refusal(service, zhapu) is not None
    )  # field accounts do not exist on the service port
    assert await refusal(secured.field, own) is not None  # nor the service on the field ports
    assert await refusal(service, own) is None
    for account in secured.accounts.field_accounts():
        assert await refusal(secured.field, account) is None, account.username
        assert await refusal(tls, account) is None, account.username


async def test_a_station_reads_nothing_and_a_reader_only_colours(secured: SecuredBroker) -> None:
    """Subscribed to everything, a station receives neither readings nor colours; a reader gets the colours only."""
    service = MqttEndpoint(HOST, secured.service_port)
    colour = json.dumps({"id": "zhapu-harbour", "colour": "blue"}).encode()
    await publish_as(
        service, secured.accounts.service, [(f"{ROOT}/risk/zhapu-harbour", colour, True)]
    )
    reader = secured.accounts.readers["sirens"]
    async with (
        secured.field.client("x", secured.station("zhapu")) as station,
        secured.field.client("y", reader) as sirens,
    ):
        await station.subscribe("#", qos=1)
        await station.subscribe(f"{ROOT}/#", qos=1)
        await sirens.subscribe(f"{ROOT}/#", qos=1)
        await publish_as(
            secured.field,
            secured.station("dushan"),
            [(f"{ROOT}/dushan/tide_level", reading(1.0), False)],
        )
        got = await anext(aiter(sirens.messages))
        assert (got.topic.value, got.payload) == (f"{ROOT}/risk/zhapu-harbour", colour)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(aiter(sirens.messages)), scaled(1))  # no reading
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(aiter(station.messages)), scaled(1))


async def test_a_station_stores_readings_for_itself_only(
    secured: SecuredBroker, service_settings: Callable[..., Settings]
) -> None:
    """Readings zhapu publishes as dushan are refused by the broker; its own are stored."""
    zhapu = secured.station("zhapu")
    async with serve(service_settings()) as app, httpx.AsyncClient(base_url=app.http) as http:
        forged = [
            (f"{ROOT}/{s}/tide_level", reading(-3.21), False) for s in ("dushan", "huangshan")
        ]
        await publish_as(
            secured.field, zhapu, [*forged, (f"{ROOT}/zhapu/tide_level", reading(1.45), False)]
        )
        # The broker handles one connection's messages in order: once zhapu's own reading is
        # stored, the forged ones would have been too.
        assert await wait_stored(http, "zhapu", 1) == [1.45]
        for station in ("dushan", "huangshan"):
            answer = await http.get(f"/api/v1/stations/{station}/readings")
            assert answer.json()["points"] == [], station


async def colour_of(secured: SecuredBroker, place: str) -> dict[str, object] | None:
    """The retained colour of ``place`` as a reader sees it."""
    reader = secured.accounts.readers["sirens"]
    body = (await retained(secured.field, reader, f"{ROOT}/risk/{place}")).get(
        f"{ROOT}/risk/{place}"
    )
    return None if body is None else json.loads(body)


async def test_only_the_service_sets_colours_and_only_forecasters_forecast(
    secured: SecuredBroker, service_settings: Callable[..., Settings]
) -> None:
    """A station or a reader cannot overwrite a retained colour; a station cannot publish a forecast; a forecaster can."""
    zhapu, reader = secured.station("zhapu"), secured.accounts.readers["sirens"]
    calm = json.dumps({"id": "zhapu-harbour", "colour": "none", "level": 0}).encode()
    red = json.dumps({"id": "dushan", "colour": "red", "level": 4}).encode()
    async with serve(service_settings()) as app, httpx.AsyncClient(base_url=app.http) as http:
        await publish_as(secured.field, zhapu, [(f"{ROOT}/zhapu/tide_level", reading(5.6), False)])
        async with asyncio.timeout(scaled(15)):
            while (await colour_of(secured, "zhapu-harbour") or {}).get("colour") != "red":
                pass
        await publish_as(
            secured.field,
            zhapu,
            [
                (f"{ROOT}/risk/zhapu-harbour", calm, True),  # a forged "all clear"
                (f"{ROOT}/forecast/by/zmfo/dushan", forecast("dushan", 20.0, "forged"), False),
            ],
        )
        await publish_as(secured.field, reader, [(f"{ROOT}/risk/dushan", red, True)])
        genuine = [(f"{ROOT}/forecast/by/zmfo/zhapu", forecast("zhapu", 4.2), False)]
        await publish_as(secured.field, secured.accounts.forecasters["zmfo"], genuine)
        await publish_as(secured.field, zhapu, [(f"{ROOT}/zhapu/tide_level", reading(5.7), False)])
        await wait_stored(http, "zhapu", 2)
        async with asyncio.timeout(scaled(15)):
            while not (forecasts := (await http.get("/api/v1/forecasts")).json()):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert [(f["station"], f["source"]) for f in forecasts] == [
            ("zhapu", "Zhejiang Marine Forecast Office (SAMPLE account)")  # the account's name
        ]
        assert (await colour_of(secured, "zhapu-harbour") or {}).get("colour") == "red"
        assert (await colour_of(secured, "dushan") or {}).get("colour") != "red"


async def test_replay_publishes_with_the_station_account(
    secured: SecuredBroker,
    service_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`marine-watch replay --accounts` publishes as the station; without an account it is refused, with a reason."""
    csv = tmp_path / "zhapu.csv"
    csv.write_text("time,value\n2026-01-01T00:00:00Z,1.11\n2026-01-01T00:10:00Z,1.22\n")
    monkeypatch.setenv("MARINE_WATCH_CONFIG_DIR", str(CONFIG_DIR))
    base = ["replay", str(csv), "--station", "zhapu", "--speed", "0"]
    base += ["--broker", f"mqtt://{HOST}:{secured.field_port}"]
    accounts = ["--accounts", str(secured.folder / "accounts.json")]
    async with serve(service_settings()) as app, httpx.AsyncClient(base_url=app.http) as http:
        assert await asyncio.to_thread(main, base) == 1
        assert "Not authorized" in capsys.readouterr().err
        assert await asyncio.to_thread(main, [*base, *accounts]) == 0
        params = {"from": "2025-12-31T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
        url = "/api/v1/stations/zhapu/readings"
        async with asyncio.timeout(scaled(15)):
            while len((await http.get(url, params=params)).json()["points"]) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)


async def test_a_refused_password_is_reported_but_never_shown(
    secured: SecuredBroker, service_settings: Callable[..., Settings]
) -> None:
    """A wrong service password: the error names the problem; the password is in no log line or repr."""
    secret = "not-the-password-" + "7f3a9c"  # a SecretStr setting
    settings = service_settings(mqtt_password=secret, mqtt_password_file=None)
    assert secret not in repr(settings)
    assert secret not in str(settings.model_dump())
    events = await refused_events(settings)
    errors = [e for e in events if e.get("log_level") == "error"]
    assert errors
    assert "MARINE_WATCH_MQTT_USERNAME" in str(errors[0]["fix"])
    assert not [e for e in events if secret in str(e)]


async def test_an_oversized_packet_is_cut_off_at_the_broker(secured: SecuredBroker) -> None:
    """A packet over max_packet_size disconnects its sender and reaches nobody; the service's own
    (dead-lettering) limit is well below it."""
    conf = dict(
        line.split(" ", 1)
        for line in secured.broker.conf.read_text().splitlines()
        if line and not line.startswith("#")
    )
    limit = int(conf["max_packet_size"])
    assert limit >= 4 * 256 * 1024
    service = MqttEndpoint(HOST, secured.service_port)

    async def send_big() -> None:
        async with secured.field.client("big", secured.station("zhapu")) as client:
            big = b"x" * (limit + 1)
            await client.publish(f"{ROOT}/zhapu/tide_level", big, qos=1, timeout=scaled(5))

    async with service.client("watcher", secured.accounts.service) as watcher:
        await watcher.subscribe(f"{ROOT}/zhapu/#", qos=1)
        with pytest.raises(aiomqtt.MqttError):
            await send_big()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(aiter(watcher.messages)), scaled(1))
