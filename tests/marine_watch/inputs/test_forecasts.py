"""The forecast book (which forecast is kept, when it counts) and its MQTT intake."""

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from pydantic import ValidationError

from marine_watch.coast import load_catalogue
from marine_watch.ingest.dead_letters import DeadLetters
from marine_watch.inputs.forecast_inbox import ForecastInbox, subscribe_forecasts
from marine_watch.inputs.forecasts import ForecastBook, ForecastIn, WindForecastIn
from marine_watch.risk.hazards import Assessor
from marine_watch.risk.state import CoastState
from marine_watch.settings import Settings
from risk_models.types import Hazard
from sensors.catalogue import Catalogue
from tests.helpers import ROOT
from tests.services import Broker, scaled

NOW = 1_795_000_000.0
HOUR = 3600.0
SOURCE = "provincial forecast (test)"  # the public name of the forecaster that sent it


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def surge(
    level_m: float, ahead_s: float, issued_s: float = NOW, station: str = "zhapu"
) -> dict[str, Any]:
    return {
        "station": station,
        "issued": iso(issued_s),
        "source": "provincial forecast (test)",
        "high_waters": [{"ts": iso(NOW + ahead_s), "level_m": level_m}],
    }


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config")


def test_only_known_tide_or_wind_stations_take_a_forecast(catalogue: Catalogue) -> None:
    """A surge forecast needs a station with warning tide levels; a wind one a wind station."""
    book = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
    for station in ("nowhere", "buoy-zhapu"):
        with pytest.raises(ValueError, match="unknown tide station"):
            book.put(ForecastIn.model_validate(surge(5.0, HOUR, station=station)), SOURCE)
    wind = {"station": "dushan", "issued": iso(NOW), "source": "x", "typhoon": "In-Fa",
            "points": [{"ts": iso(NOW + HOUR), "mean_mps": 30.0}]}  # fmt: skip
    with pytest.raises(ValueError, match="unknown wind station"):
        book.put_wind(WindForecastIn.model_validate(wind), SOURCE)
    kept = book.put_wind(WindForecastIn.model_validate({**wind, "station": "mast-zhapu"}), SOURCE)
    assert math.isnan(kept.gust_mps[0])  # no gust given
    assert book.wind["mast-zhapu"] is kept


def test_an_older_forecast_never_replaces_a_newer_one(catalogue: Catalogue) -> None:
    """Forecasts may arrive out of order: the latest issued stays."""
    book = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
    newer = book.put(ForecastIn.model_validate(surge(5.0, HOUR, issued_s=NOW)), SOURCE)
    book.put(ForecastIn.model_validate(surge(3.0, HOUR, issued_s=NOW - HOUR)), SOURCE)
    assert book.latest["zhapu"] is newer
    newest = book.put(ForecastIn.model_validate(surge(4.0, HOUR, issued_s=NOW + 60)), SOURCE)
    assert book.latest["zhapu"] is newest


def test_the_wire_format_is_strict() -> None:
    """Times need an offset, values must be finite and in range, no unknown fields."""
    good = surge(5.0, HOUR)
    ForecastIn.model_validate(good)
    bad = [
        {**good, "issued": "2026-11-23T08:00:00"},
        {**good, "high_waters": [{"ts": iso(NOW), "level_m": float("nan")}]},
        {**good, "high_waters": [{"ts": iso(NOW), "level_m": 25.0}]},
        {**good, "high_waters": []},
        {**good, "extra": 1},
    ]
    for body in bad:
        with pytest.raises(ValidationError):
            ForecastIn.model_validate(body)


def test_a_stale_or_out_of_window_forecast_does_not_count(catalogue: Catalogue) -> None:
    """Issued longer ago than the maximum age, or with its high water beyond the outlook: ignored."""
    assessor = Assessor(catalogue, {})
    base = {(a.place, a.hazard): a for a in assessor.assess(CoastState(), NOW)}
    stale = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
    with pytest.raises(ValueError, match="older than"):  # 13 h old, 12 h allowed: refused
        stale.put(ForecastIn.model_validate(surge(5.6, HOUR, issued_s=NOW - 13 * HOUR)), SOURCE)
    for body, now in [
        (surge(5.6, (catalogue.rules.outlook_hours + 1) * HOUR), NOW),  # past the outlook
    ]:
        book = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
        book.put(ForecastIn.model_validate(body), SOURCE)
        adjusted = {(a.place, a.hazard): a for a in book.adjust(list(base.values()), now)}
        assert adjusted[("zhapu", Hazard.STORM_SURGE)] is base[("zhapu", Hazard.STORM_SURGE)]
    book = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
    book.put(ForecastIn.model_validate(surge(5.6, HOUR)), SOURCE)
    adjusted = {(a.place, a.hazard): a for a in book.adjust(list(base.values()), NOW)}
    assert adjusted[("zhapu", Hazard.STORM_SURGE)].level == 4


async def test_forecasts_over_mqtt_are_taken_or_dead_lettered(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str, tmp_path: Path
) -> None:
    """Through a real broker: a good forecast is kept and triggers an evaluation; a payload for
    another station than its topic, or not JSON, is dead-lettered with the reason."""
    settings = make_settings(mosquitto)
    catalogue = load_catalogue(ROOT / "config")
    book = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
    dead = DeadLetters(tmp_path / "dead.sqlite3")
    await dead.open()
    taken: list[float] = []
    first, second = asyncio.Event(), asyncio.Event()

    def on_new() -> None:
        taken.append(book.latest["zhapu"].issued_s)
        first.set()
        if taken[-1] == NOW + 60:  # the last one published (a retried first may come twice)
            second.set()

    inbox = ForecastInbox(book, dead, on_new, {"zmfo": SOURCE})
    worker = asyncio.create_task(subscribe_forecasts(settings, inbox))
    topic = f"{topic_root}/forecast/by/zmfo/zhapu"
    client_id = f"fc-{time.time_ns()}"
    try:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier=client_id) as c:
            async with asyncio.timeout(scaled(10)):  # until the worker has subscribed
                while not first.is_set():
                    await c.publish(topic, json.dumps(surge(5.0, HOUR)), qos=1)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(first.wait(), 0.2)
            # one topic, one publisher, QoS 1: they arrive in this order
            await c.publish(topic, json.dumps(surge(5.0, HOUR, station="dushan")), qos=1)
            await c.publish(topic, b"{not json", qos=1)
            await c.publish(topic, json.dumps(surge(4.0, HOUR, issued_s=NOW + 60)), qos=1)
            async with asyncio.timeout(scaled(10)):
                await second.wait()
    finally:
        worker.cancel()
    assert book.latest["zhapu"].levels_m.tolist() == [4.0]
    assert taken[-1] == NOW + 60
    letters = await dead.query()
    assert [d["reason"] for d in letters] == ["bad_forecast", "bad_forecast"]
    assert any("does not match the topic" in str(d["detail"]) for d in letters)
    await dead.close()
