"""Retained MQTT risk topics ``{root}/risk/{zone_id}``: any number of API nodes can fan them out.

Changes are coalesced per place (latest wins), so the buffer is bounded by the number of places
whatever the rate of change; a broker outage loses nothing that matters because the next publish
carries the current colour, retained.
"""

import asyncio
import json

import aiomqtt
import structlog

from marine_watch.ingest import Backoff, side_client
from marine_watch.mqtt_conn import BrokerLink
from marine_watch.settings import Settings
from marine_watch.zones import PlaceColour

log = structlog.get_logger(__name__)


class RiskTopics:
    """Pipeline listener plus publisher worker with its own MQTT client."""

    def __init__(self, settings: Settings, link: BrokerLink | None = None) -> None:
        self._settings = settings
        self._link = link  # moves on to the next broker of mqtt_url after a lost connection
        self._pending: dict[str, bytes] = {}
        self._ready = asyncio.Event()
        self.root = f"{settings.mqtt_topic_root.rstrip('/')}/risk"

    def on_change(self, changed: list[PlaceColour], now_s: float) -> None:
        """Pipeline listener: remember the latest colour of each changed place."""
        for colour in changed:
            body = {**colour.to_dict(), "ts": now_s}
            self._pending[colour.id] = json.dumps(body, default=str, allow_nan=False).encode()
        if changed:
            self._ready.set()

    async def run(self) -> None:
        backoff = Backoff(tls=self._settings.mqtt_tls)
        link = self._link
        while True:
            try:
                async with side_client(self._settings, "risk", link) as client:
                    if link is not None:
                        link.up()
                    backoff.reset()
                    await self._publish_forever(client)
            except aiomqtt.MqttError as exc:
                if link is not None:
                    link.down()
                await backoff.wait("risk_topics_disconnected", exc)

    async def _publish_forever(self, client: aiomqtt.Client) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            batch, self._pending = self._pending, {}
            try:
                for place, body in batch.items():
                    await client.publish(f"{self.root}/{place}", body, qos=1, retain=True)
            except aiomqtt.MqttError:
                for place, body in batch.items():  # not yet superseded: retry after reconnect
                    self._pending.setdefault(place, body)
                self._ready.set()
                raise
