"""Forecasts over MQTT: ``{root}/forecast/by/{forecaster}/{station}[/wind|/waves]``, attributed by
account.

The broker's ACL lets only the account ``forecaster-{name}`` publish under ``by/{name}/``, so the
topic names who sent a forecast; the public sees that forecaster's ``source`` from
config/mqtt_accounts.toml. A bad forecast is dead-lettered (``bad_forecast``) with the reason.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiomqtt
import structlog
from pydantic import ValidationError

from marine_watch.ingest.dead_letters import DeadLetter, DeadLetters
from marine_watch.inputs.forecasts import ForecastBook, ForecastIn, WindForecastIn
from marine_watch.inputs.wave_forecasts import WaveForecastIn
from marine_watch.mqtt.client import BrokerLink
from marine_watch.mqtt.session import Backoff, side_client
from marine_watch.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Forecasters:
    """The public names of the forecasters (config/mqtt_accounts.toml: name → ``source``)."""

    sources: Mapping[str, str]

    def source_of(self, name: str) -> str:
        """The name the public sees for forecasts sent with the key or account called ``name``."""
        return self.sources.get(name, name)


@dataclass(frozen=True, slots=True)
class ForecastInbox:
    """Where MQTT forecasts go, and who may send them: forecaster name → public source name."""

    book: ForecastBook
    dead_letters: DeadLetters
    on_new: Callable[[], None]
    sources: Mapping[str, str]


def forecast_topics(root: str, stations: frozenset[str] | None = None) -> list[str]:
    """The topic filters of surge, wind and wave forecasts (``by/{forecaster}/{station}[/kind]``):
    every station, or only ``stations`` (a regional risk node)."""
    names = ["+"] if stations is None else sorted(stations)
    bases = [f"{root.rstrip('/')}/forecast/by/+/{name}" for name in names]
    return [f"{base}{kind}" for base in bases for kind in ("", "/wind", "/waves")]


async def subscribe_forecasts(
    settings: Settings,
    inbox: ForecastInbox,
    link: BrokerLink | None = None,
    stations: frozenset[str] | None = None,
) -> None:
    """Worker: forecasts from ``{root}/forecast/by/+/+`` and ``…/wind``, ``…/waves``; bad ones
    dead-lettered.

    With ``link``, a lost connection moves the client on to the next broker of ``mqtt_url``. A
    regional risk node (``stations`` given) subscribes to its own stations' forecasts only.
    """
    root = settings.mqtt_topic_root.rstrip("/")
    backoff = Backoff(tls=settings.mqtt_tls)
    filters = [(topic, 1) for topic in forecast_topics(root, stations)]
    while True:
        try:
            async with side_client(settings, "forecast", link) as client:
                await client.subscribe(filters, qos=1)
                if link is not None:
                    link.up()
                backoff.reset()
                async for message in client.messages:
                    await _take(message, root, inbox)
        except aiomqtt.MqttError as exc:
            if link is not None:
                link.down()
            await backoff.wait(
                "forecast_mqtt_disconnected", exc, next_untried=link is not None and link.untried
            )


def _accept(inbox: ForecastInbox, forecaster: str, station: str, what: str, raw: bytes) -> str:
    """Decode one forecast, check its sender and station, put it in the book; its source.

    ValueError (pydantic's ValidationError among them) when it cannot be accepted.
    """
    source = inbox.sources.get(forecaster)
    if source is None:  # the ACL lets no such account publish here
        msg = f"forecaster {forecaster!r} is not in config/mqtt_accounts.toml"
        raise ValueError(msg)
    incoming: ForecastIn | WindForecastIn | WaveForecastIn
    if what == "wind":
        incoming = WindForecastIn.model_validate_json(raw)
    elif what == "waves":
        incoming = WaveForecastIn.model_validate_json(raw)
    else:
        incoming = ForecastIn.model_validate_json(raw)
    if incoming.station != station:
        msg = f"payload station {incoming.station!r} does not match the topic"
        raise ValueError(msg)
    if isinstance(incoming, WindForecastIn):
        inbox.book.put_wind(incoming, source)
    elif isinstance(incoming, WaveForecastIn):
        inbox.book.put_waves(incoming, source)
    else:
        inbox.book.put(incoming, source)
    return source


async def _take(message: aiomqtt.Message, root: str, inbox: ForecastInbox) -> None:
    topic = message.topic.value
    raw = bytes(message.payload)
    forecaster, _, rest = topic.removeprefix(f"{root}/forecast/by/").partition("/")
    station, _, what = rest.partition("/")
    try:
        source = _accept(inbox, forecaster, station, what, raw)
    except (ValidationError, ValueError) as exc:
        detail = str(exc).splitlines()[0]
        await inbox.dead_letters.add(
            [DeadLetter(topic, time.time(), "bad_forecast", detail, raw, len(raw))]
        )
        log.warning("forecast_dead_lettered", topic=topic, detail=detail)
        return
    log.info("forecast_received", station=station, source=source, kind=what or "surge")
    inbox.on_new()
