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
from marine_watch.mqtt.client import Account, MqttEndpoint
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
    (the broker lets a station account write only its own readings), one message in flight at a
    time: a station still waiting for its broker's acknowledgement skips a round, the others go on.

    A station account is one connection at a time (docs/SECURITY.md): when another client connects
    with it, e.g. `marine-watch replay` into the demo, the broker closes the simulator's connection
    for that station. The simulator then leaves the station to that client for good rather than
    take the account back (which would cut the other client off): a station whose publish fails
    while others of the same round get through is left. When every station fails, the broker is
    away: all are reconnected after a second.
    """
    left: set[str] = set()  # stations whose account another client took over
    while True:
        inflight: dict[str, asyncio.Task[None]] = {}
        try:
            async with AsyncExitStack() as stack:
                clients: dict[str, aiomqtt.Client] = {}
                log.info("simulator_connecting", host=endpoint.host, port=endpoint.port)
                next_t = clock.now()
                while True:
                    left |= _settle(inflight)
                    for station, items in batch_payloads(simulator.readings_at(next_t)).items():
                        if station in left or station in inflight:
                            continue
                        if station not in clients:
                            account = None if accounts is None else accounts.get(station)
                            client = endpoint.client(f"{client_id}-{station}", account)
                            clients[station] = await stack.enter_async_context(client)
                        topic, payload = f"{root}/{station}/batch", json.dumps(items)
                        inflight[station] = asyncio.create_task(
                            clients[station].publish(topic, payload, qos=1)
                        )
                    next_t += step_s
                    await asyncio.sleep(max(0.0, (next_t - clock.now()) / _speed(clock)))
        except aiomqtt.MqttError as exc:
            log.warning("simulator_disconnected", error=str(exc))
            await asyncio.sleep(1.0)
        finally:
            for task in inflight.values():
                task.cancel()  # no-op on a finished one; mark a finished one's failure as seen:
                task.add_done_callback(lambda t: t.cancelled() or t.exception())


def _settle(inflight: dict[str, asyncio.Task[None]]) -> set[str]:
    """Take the finished publishes out of ``inflight``; return the stations to leave.

    A failure while another station's publish went through since the last round means the broker
    closed that station's connection alone (its account was taken over): the station is left.
    When every publish failed the broker is away, and the first failure is raised. A failure
    beside publishes still waiting stays in ``inflight`` (its station skips rounds) until decided.
    """
    done = {s: t for s, t in inflight.items() if t.done()}
    failed: dict[str, aiomqtt.MqttError] = {}
    for station, task in done.items():
        exc = task.exception()
        if isinstance(exc, aiomqtt.MqttError):
            failed[station] = exc
        elif exc is not None:
            raise exc
        else:
            del inflight[station]
    if not failed:
        return set()
    if len(failed) < len(done):  # others got through: only these connections were closed
        for station, exc in failed.items():
            del inflight[station]
            log.warning("simulator_left_station", station=station, error=str(exc))
        return set(failed)
    if len(done) == len(inflight):  # every publish failed: the broker is away
        raise next(iter(failed.values()))
    return set()


def _speed(clock: Clock) -> float:
    return float(getattr(clock, "speed", 1.0))


def new_simulator(
    catalogue: Catalogue,
    constants: Mapping[str, tide.TideConstants],
    storm: Typhoon | None,
    seed: int,
) -> CoastSimulator:
    """A simulator of the catalogue's stations, with an optional typhoon, seeded."""
    return CoastSimulator(catalogue.stations, constants, storm, np.random.default_rng(seed))
