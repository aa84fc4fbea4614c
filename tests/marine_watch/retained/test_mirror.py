"""An API node's mirror, fed the retained payloads that retained/publisher.py writes (no broker: the
subscription itself is exercised by tests/integration/test_api_node.py)."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from marine_watch.alerts.book import AlertMessage, MsgType, Subject
from marine_watch.alerts.cap import FEED_SIZE
from marine_watch.hub import Hub
from marine_watch.retained.mirror import MirroredAlerts, RiskMirror
from marine_watch.retained.publisher import RiskTopics
from marine_watch.risk.assessment import Assessment
from marine_watch.risk.pipeline import Pipeline
from marine_watch.risk.regions import regions_of
from marine_watch.risk.zones import PlaceColour
from marine_watch.settings import Settings
from risk_models.types import Hazard
from tests.helpers import CONFIG, SetClock, build_pipeline

NOW = 1_795_000_000.0
ROOT = "t/mirror/marine/v1"
PINGHU, HAIYAN = "zhapu-harbour", "xitangqiao-coast"  # a zone of each region
NAMES = {-1: "unknown", 0: "none", 1: "blue", 2: "yellow", 3: "orange", 4: "red"}


def colour(place: str, level: int) -> PlaceColour:
    return PlaceColour(place, "zone", "village", level, NAMES[level], None, (), NOW)


def settings_of(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        config_dir=CONFIG,
        data_dir=tmp_path,
        mqtt_topic_root=ROOT,
        colours_max_age_s=60.0,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def pipeline() -> Iterator[tuple[Pipeline, Hub]]:
    """The API node's own pipeline, which the mirror fills."""
    built, hub, numerics = build_pipeline(SetClock(NOW))
    yield built, hub
    numerics.shutdown()


@pytest.fixture
def mirror(tmp_path: Path, pipeline: tuple[Pipeline, Hub]) -> RiskMirror:
    api = settings_of(tmp_path, node_role="api")
    return RiskMirror(api, pipeline[0], regions_of(pipeline[0].catalogue))


def publish(topics: RiskTopics, mirror: RiskMirror, **edit: object) -> None:
    """Deliver what ``topics`` has pending, as the broker would (heartbeat last: it closes an
    evaluation); ``edit`` changes fields of the heartbeat (its wall clock time, say)."""
    pending, topics._pending = topics._pending, {}
    beats = {t: b for t, b in pending.items() if t.startswith("_node/")}
    for topic, body in pending.items():
        if topic not in beats:
            mirror.on_message(f"{topics.root}/{topic}", body)
    for topic, body in beats.items():
        mirror.on_message(
            f"{topics.root}/{topic}", json.dumps({**json.loads(body), **edit}).encode()
        )


@pytest.fixture
def topics(tmp_path: Path) -> RiskTopics:
    """A risk node's publisher (evaluating the whole coast)."""
    return RiskTopics(settings_of(tmp_path))


def test_colours_show_together_when_the_heartbeat_closes_the_evaluation(
    mirror: RiskMirror, topics: RiskTopics, pipeline: tuple[Pipeline, Hub]
) -> None:
    built, hub = pipeline
    ws = hub.subscribe("risk")
    topics.on_change([colour(PINGHU, 3), colour(HAIYAN, 1)], NOW)
    heartbeat = topics._pending.pop("_node/all")
    before = dict(built.book.current)
    publish(topics, mirror)
    assert built.book.current == before
    assert mirror.latest == {}  # pending until the heartbeat
    mirror.on_message(f"{topics.root}/_node/all", heartbeat)
    assert (built.book.current[PINGHU].level, built.book.current[PINGHU].colour) == (3, "orange")
    assert built.book.current[HAIYAN].level == 1
    assert built.evaluated_s == NOW
    assert set(mirror.latest) == {PINGHU, HAIYAN}
    pushed = [json.loads(text) for text in ws._box.values()]
    assert {(m["id"], m["level"], m["ts"]) for m in pushed} == {(PINGHU, 3, NOW), (HAIYAN, 1, NOW)}
    assert mirror.refused == 0


def test_a_place_payload_round_trips_every_field(mirror: RiskMirror, topics: RiskTopics) -> None:
    sent = PlaceColour(
        PINGHU,
        "zone",
        "village",
        2,
        "yellow",
        {"hazard": "storm_surge", "level": 2},
        ("mast-1: no data",),
        NOW - 600,
        held={"level": 3, "until_s": NOW + 60},
        unknown_keys=frozenset({"mast-1/wind"}),
        no_data_since=({"place": "mast-1", "since_s": NOW - 900},),
    )
    topics.on_change([sent], NOW)
    publish(topics, mirror)
    assert mirror.latest[PINGHU] == sent


def test_station_summaries_and_assessments_come_from_the_risk_node(
    tmp_path: Path, mirror: RiskMirror, pipeline: tuple[Pipeline, Hub]
) -> None:
    built, _ = pipeline
    node, _, numerics = build_pipeline(SetClock(NOW))  # the risk node's pipeline
    try:
        station = node.catalogue.stations[0].id
        found = Assessment(station, Hazard.STORM_SURGE, 2, {"surge_m": 1.2}, None, (2, 3), NOW)
        elsewhere = Assessment("d-other", Hazard.STORM_SURGE, 1, {}, None)
        node.assessments = {(station, "storm_surge"): found, ("d-other", "storm_surge"): elsewhere}
        topics = RiskTopics(settings_of(tmp_path), node)
        topics.on_change([], NOW)
        publish(topics, mirror)
        expected = node.station_summary(station)
    finally:
        numerics.shutdown()
    assert built.station_summary(station) == json.loads(json.dumps(expected, default=str))
    assert built.assessments[(station, "storm_surge")] == found
    assert ("d-other", "storm_surge") not in built.assessments  # on no station's topic
    assert len(mirror.summaries) == len(built.catalogue.stations)


def alert(identifier: str, subject: Subject, sent_s: float, zone: str = PINGHU) -> AlertMessage:
    return AlertMessage(
        identifier,
        identifier,
        subject,
        zone,
        "village",
        MsgType.ALERT,
        2,
        "yellow",
        sent_s,
        (),
        f"Yellow at {zone}",
        texts={"en": {"headline": "Yellow"}},
    )


async def test_the_public_feed_is_the_zone_messages_newest_first(
    mirror: RiskMirror, topics: RiskTopics
) -> None:
    old, new = alert("mw-1", Subject.ZONE, NOW), alert("mw-3", Subject.ZONE, NOW + 60, HAIYAN)
    topics.seed_alerts([new, old])
    topics.on_alert(alert("mw-2", Subject.STATION, NOW + 30))  # not public: never on the topic
    publish(topics, mirror)
    feed = MirroredAlerts(mirror)
    assert [m.identifier for m in await feed.messages()] == ["mw-3", "mw-1"]
    assert [m.identifier for m in await feed.messages(subject_id=PINGHU)] == ["mw-1"]
    assert [m.identifier for m in await feed.messages(limit=1)] == ["mw-3"]
    assert await feed.message("mw-1") == old
    assert await feed.message("mw-2") is None
    assert FEED_SIZE >= 2


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        (PINGHU, b"{not json"),
        (PINGHU, b"[1, 2]"),
        (PINGHU, json.dumps({"v": 1, "id": PINGHU}).encode()),  # another contract version
        (PINGHU, json.dumps({"v": 2, "id": "tianfei", "kind": "zone"}).encode()),
        (PINGHU, json.dumps({"v": 2, "id": PINGHU, "kind": "harbour"}).encode()),
        (PINGHU, json.dumps({"v": 2, "id": PINGHU, "kind": "zone"}).encode()),  # fields missing
        ("_station/mast-1", json.dumps({"v": 2, "summary": "ok"}).encode()),
        ("_node/all", json.dumps({"v": 2, "evaluated_s": "soon", "wall_s": 1}).encode()),
        ("_alerts/all", json.dumps({"v": 2, "messages": [{"identifier": "x"}]}).encode()),
    ],
)
def test_a_bad_payload_is_counted_and_never_applied(
    mirror: RiskMirror, topic: str, payload: bytes
) -> None:
    mirror.on_message(f"{ROOT}/risk/{topic}", payload)
    mirror.flush()
    assert mirror.refused == 1
    assert (mirror.latest, mirror.nodes, mirror.summaries, mirror.alerts) == ({}, {}, {}, {})


def test_an_oversized_payload_is_refused_unread_and_an_empty_one_ignored(
    mirror: RiskMirror,
) -> None:
    mirror.on_message(f"{ROOT}/risk/{PINGHU}", b" " * (mirror.settings.max_payload_bytes * 4 + 1))
    assert mirror.refused == 1
    mirror.on_message(f"{ROOT}/risk/{PINGHU}", b"")  # a cleared retained topic
    assert mirror.refused == 1


def test_colours_are_unknown_past_the_age_limit_and_come_back_with_a_heartbeat(
    mirror: RiskMirror, topics: RiskTopics, pipeline: tuple[Pipeline, Hub]
) -> None:
    built, _ = pipeline
    topics.on_change([colour(PINGHU, 3), colour(HAIYAN, 2)], NOW)
    publish(topics, mirror, wall_s=time.time() - 120)  # published two minutes ago: too old
    assert mirror.stale_regions == {"pinghu", "haiyan"}
    grey = built.book.current[PINGHU]
    assert (grey.level, grey.colour) == (-1, "unknown")
    assert grey.driver is not None
    assert grey.driver["last_level"] == 3
    assert "no colours from the risk node of region 'pinghu'" in str(grey.driver["reason"])
    fresh = mirror.freshness()
    assert fresh["stale"] is True
    assert fresh["stale_regions"] == ["haiyan", "pinghu"]
    assert fresh["max_age_s"] == 60.0
    assert built.freshness() == fresh  # every answer asks the mirror
    topics.on_change([], NOW + 60)
    publish(topics, mirror)  # a fresh heartbeat
    assert mirror.stale_regions == set()
    assert built.book.current[PINGHU].level == 3  # the retained colour is shown again
    assert mirror.freshness()["stale"] is False


def test_before_any_heartbeat_the_colours_have_no_age(mirror: RiskMirror) -> None:
    assert mirror.age_s() is None
    assert mirror.freshness() == {
        "colours_age_s": None,
        "max_age_s": 60.0,
        "stale": True,
        "stale_regions": [],
    }


def test_each_region_ages_with_its_own_risk_node(
    tmp_path: Path, mirror: RiskMirror, pipeline: tuple[Pipeline, Hub]
) -> None:
    built, _ = pipeline
    pinghu = RiskTopics(settings_of(tmp_path, node_role="risk", regions=("pinghu",)))
    haiyan = RiskTopics(settings_of(tmp_path, node_role="risk", regions=("haiyan",)))
    assert (pinghu.node, haiyan.node) == ("pinghu", "haiyan")
    pinghu.on_change([colour(PINGHU, 2)], NOW)
    haiyan.on_change([colour(HAIYAN, 4)], NOW - 30)
    publish(pinghu, mirror)
    publish(haiyan, mirror, wall_s=time.time() - 300)  # the Haiyan node fell silent
    assert mirror.stale_regions == {"haiyan"}
    assert built.book.current[PINGHU].level == 2
    assert built.book.current[HAIYAN].level == -1
    pinghu_age, haiyan_age = mirror.age_s("pinghu"), mirror.age_s("haiyan")
    assert pinghu_age is not None
    assert haiyan_age is not None
    assert pinghu_age < 5 < 299 < haiyan_age
    assert built.evaluated_s == NOW  # the newest evaluation of any node
