"""No other account can take over the service's MQTT sessions (ingest, forecasts, risk topics)."""

import asyncio
from collections.abc import Callable

import aiomqtt
import httpx
import pytest

from marine_watch.mqtt.client import Account, MqttEndpoint
from marine_watch.settings import Settings
from tests.helpers import serve
from tests.security.broker import ROOT, SecuredBroker
from tests.security.traffic import reading, stored, wait_stored
from tests.services import HOST

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
READINGS = 30


def service_ids(secured: SecuredBroker) -> list[str]:
    """The client ids of the service's three connections."""
    own = secured.accounts.client_id
    return [own, f"{own}-forecast", f"{own}-risk"]


async def intrude(
    secured: SecuredBroker, client_id: str, account: Account, stop: asyncio.Event
) -> list[str]:
    """Keep connecting with ``client_id`` as ``account`` on the field and the service listener,
    and anonymously on the service listener; how each attempt went."""
    service = MqttEndpoint(HOST, secured.service_port)
    tries = [(secured.field, account), (service, account), (service, None)]
    outcomes: list[str] = []
    while not stop.is_set():
        for endpoint, as_account in tries:
            try:
                async with endpoint.client(client_id, as_account, clean_start=False):
                    outcomes.append("connected")
                    await asyncio.sleep(0.05)
            except aiomqtt.MqttError as exc:
                outcomes.append(str(exc))
    return outcomes


async def test_intruders_with_the_services_client_ids_take_nothing(
    secured: SecuredBroker, service_settings: Callable[..., Settings]
) -> None:
    """Field accounts that claim the service's ids get their own name instead; on the service
    port they are refused. The service stays connected and stores every reading."""
    zhapu = secured.station("zhapu")
    async with serve(service_settings()) as app, httpx.AsyncClient(base_url=app.http) as http:
        stop = asyncio.Event()
        others = [a for a in secured.accounts.field_accounts() if a != zhapu]
        intruders = [
            asyncio.create_task(intrude(secured, cid, account, stop))
            for cid, account in zip(service_ids(secured), others, strict=False)
        ]
        disconnects = 0
        async with secured.field.client("zhapu", zhapu) as station:
            for i in range(READINGS):
                await station.publish(
                    f"{ROOT}/zhapu/tide_level", reading(round(1.0 + i / 100, 2)), qos=1
                )
                await asyncio.sleep(0.05)
                disconnects += not app.services.ingest.connected.is_set()
        values = await wait_stored(http, "zhapu", READINGS)
        stop.set()
        outcomes = [o for task in intruders for o in await task]
        assert len(await stored(http, "zhapu")) == READINGS
    assert values == [round(1.0 + i / 100, 2) for i in range(READINGS)]
    assert disconnects == 0
    assert any(o == "connected" for o in outcomes)  # on the field port, under its own name
    assert any("Not authorized" in o or "code:134" in o for o in outcomes)  # on the service port
    log = secured.broker.log.read_text()
    assert "session taken over" not in log
    for cid in service_ids(secured):
        assert f"Client {cid} already connected" not in log
