"""The pipeline: readings → state → assessments → place colours, published once per change."""

import json
from collections.abc import AsyncIterator

import pytest

from marine_watch.hub import Hub
from marine_watch.risk.pipeline import Pipeline
from sensors.reading import Reading, group
from tests.helpers import SetClock, build_pipeline, obj

NOW = 1_795_000_000.0


def zhapu_at(level_m: float, now_s: float = NOW) -> list[Reading]:
    """Three minutes of Zhapu's tide gauge at ``level_m`` (1985 datum: its gauge is in it),
    oldest first."""
    return [Reading("zhapu", "tide_level", int((now_s - 60 * i) * 1e9), level_m) for i in (2, 1, 0)]


@pytest.fixture
async def running() -> AsyncIterator[tuple[Pipeline, Hub, SetClock]]:
    clock = SetClock(NOW)
    pipeline, hub, numerics = build_pipeline(clock)
    yield pipeline, hub, clock
    numerics.shutdown()


async def test_a_red_gauge_turns_its_places_red_once(
    running: tuple[Pipeline, Hub, SetClock],
) -> None:
    """5.6 m at Zhapu (its SAMPLE red level is 5.40 m) makes Zhapu Harbour, Zhapu and Pinghu red;
    the change reaches /ws/risk subscribers and listeners once, not again on the next evaluation."""
    pipeline, hub, _ = running
    risk = hub.subscribe("risk")
    heard: list[tuple[list[str], float]] = []
    pipeline.listeners.append(lambda changed, now: heard.append(([c.id for c in changed], now)))
    await pipeline.evaluate()
    await risk.next_batch()  # the first evaluation: every place goes from nothing to a colour
    heard.clear()

    pipeline.on_readings(group(zhapu_at(5.6)))
    changed = await pipeline.evaluate()
    colours = {c.id: c.colour for c in changed}
    assert colours["zhapu-harbour"] == "red"
    assert colours["zhapu"] == "red"
    assert colours["pinghu"] == "red"
    assert pipeline.evaluated_s == NOW
    assert heard == [([c.id for c in changed], NOW)]
    published = [json.loads(text) for text in await risk.next_batch()]
    harbour = next(m for m in published if m["id"] == "zhapu-harbour")
    assert (harbour["type"], harbour["level"], harbour["ts"]) == ("zone", 4, NOW)
    assert harbour["explanation"]["station"] == "zhapu"

    assert await pipeline.evaluate() == []  # nothing new: nothing published
    assert heard[-1] == ([], NOW)


async def test_readings_reach_feed_subscribers_only_when_there_are_some(
    running: tuple[Pipeline, Hub, SetClock],
) -> None:
    """With a /ws/feeds client each reading is published; the state takes them either way."""
    pipeline, hub, _ = running
    pipeline.on_readings(group(zhapu_at(2.0)))  # no subscriber: nothing built
    feeds = hub.subscribe("feeds")
    pipeline.on_readings(group(zhapu_at(2.5, NOW + 600)))
    batch = [json.loads(t) for t in await feeds.next_batch()]
    assert batch == [  # one key per series: the latest reading wins
        {
            "type": "reading",
            "station": "zhapu",
            "kind": "tide_level",
            "ts": NOW + 600,
            "value": 2.5,
            "qc": "ok",
        }
    ]
    assert pipeline.state.last_any("zhapu", "tide_level") == (NOW + 600, 2.5, "ok")


async def test_station_summary_and_the_snapshot(running: tuple[Pipeline, Hub, SetClock]) -> None:
    """A station's summary has its status, last readings and hazard levels; the snapshot text is
    encoded once per evaluation."""
    pipeline, _, clock = running
    pipeline.on_readings(group(zhapu_at(5.6)))
    await pipeline.evaluate()
    summary = pipeline.station_summary("zhapu")
    assert summary["status"] == "ok"
    assert summary["last"] == {"tide_level": {"ts": NOW, "value": 5.6, "qc": "ok"}}
    assert obj(summary["hazards"])["storm_surge"] == 4
    assert summary["surge_rule"] == "warning tide levels"
    quiet = pipeline.station_summary("jinsiniang")
    assert quiet["status"] != "ok"
    assert quiet["last"] == {}

    text = pipeline.snapshot_text()
    assert pipeline.snapshot_text() is text
    snapshot = json.loads(text)
    assert snapshot["type"] == "snapshot"
    assert {p["id"] for p in snapshot["places"]} >= {"zhapu-harbour", "pinghu"}
    clock.now_s = NOW + 60
    await pipeline.evaluate()
    assert pipeline.snapshot_text() is not text
    assert json.loads(pipeline.snapshot_text())["ts"] == NOW + 60
