"""Publish a simulated coast over MQTT (the demo's field stations, or `marine-watch simulate`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from contextlib import AsyncExitStack

import aiomqtt
import numpy as np
import structlog

from marine_watch.clock import Clock
from marine_watch.mqtt_conn import Account, MqttEndpoint
from risk_models import tide
from sensors.catalogue import Catalogue
from sensors.simulate import CoastSimulator, Typhoon, align_peak_to_high_water, batch_payloads

log = structlog.get_logger(__name__)


def typhoon_for(
    catalogue: Catalogue, constants: Mapping[str, tide.TideConstants], start_s: float, lead_h: float
) -> Typhoon:
    """A typhoon whose surge peaks at the highest high water ``lead_h``..+14 h after start at the first tide station."""
    first = next(iter(constants.values()))
    del catalogue
    return Typhoon(peak_s=align_peak_to_high_water(first, start_s + lead_h * 3600.0))


async def publish_forever(
    endpoint: MqttEndpoint,
    root: str,
    simulator: CoastSimulator,
    clock: Clock,
    *,
    accounts: Mapping[str, Account] | None = None,
    step_s: float = 60.0,
    client_id: str = "marine-watch-simulator",
) -> None:
    """Every ``step_s`` of (possibly scaled) time, publish one batch message per station, QoS 1.

    Each station publishes on its own connection, with its own account when ``accounts`` has one
    (the broker lets a station account write only its own readings).
    """
    while True:
        try:
            async with AsyncExitStack() as stack:
                clients: dict[str, aiomqtt.Client] = {}
                log.info("simulator_connecting", host=endpoint.host, port=endpoint.port)
                next_t = clock.now()
                while True:
                    for station, items in batch_payloads(simulator.readings_at(next_t)).items():
                        if station not in clients:
                            account = None if accounts is None else accounts.get(station)
                            client = endpoint.client(f"{client_id}-{station}", account)
                            clients[station] = await stack.enter_async_context(client)
                        await clients[station].publish(
                            f"{root}/{station}/batch", json.dumps(items), qos=1
                        )
                    next_t += step_s
                    await asyncio.sleep(max(0.0, (next_t - clock.now()) / _speed(clock)))
        except aiomqtt.MqttError as exc:
            log.warning("simulator_disconnected", error=str(exc))
            await asyncio.sleep(1.0)


def _speed(clock: Clock) -> float:
    return float(getattr(clock, "speed", 1.0))


def new_simulator(
    catalogue: Catalogue,
    constants: Mapping[str, tide.TideConstants],
    storm: Typhoon | None,
    seed: int,
) -> CoastSimulator:
    return CoastSimulator(catalogue.stations, constants, storm, np.random.default_rng(seed))
