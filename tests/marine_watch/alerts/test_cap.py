"""CAP 1.2 output validates against the official XSD and follows DOMAIN.md §6.2."""

import re
from xml.etree import ElementTree as ET

import pytest

from marine_watch.alerts.book import AlertBook, AlertMessage
from marine_watch.alerts.cap import ATOM_NS, CAP_NS, atom_feed, cap_document, cap_polygon
from marine_watch.coast import load_catalogue
from marine_watch.risk.zones import PlaceColour
from sensors.catalogue import Zone
from tests.helpers import cap_schema, present
from tests.services import CONFIG_DIR

NS = {"cap": CAP_NS, "atom": ATOM_NS}
SENDER = "marine-watch@pinghu.sample.invalid"


@pytest.fixture(scope="module")
def zones() -> dict[str, Zone]:
    return {z.id: z for z in load_catalogue(CONFIG_DIR).zones}


def lifecycle(levels: list[int], peak_s: float | None = None) -> list[AlertMessage]:
    book = AlertBook()
    out: list[AlertMessage] = []
    names = {0: "none", 1: "blue", 2: "yellow", 3: "orange", 4: "red"}
    for i, level in enumerate(levels):
        driver: dict[str, object] = {
            "hazard": "storm_surge",
            "station": "zhapu",
            "value": 5.5,
            "threshold": 5.4,
        }
        if peak_s is not None:
            driver["peak_time_s"] = peak_s
        c = PlaceColour("zhapu-harbour", "zone", "village", level, names[level], driver, (), 0.0)
        message = book.on_colour(c, 1_790_000_000.0 + 600 * i)
        assert message is not None
        out.append(message)
    return out


def params(alert: ET.Element) -> dict[str, str]:
    return {
        present(p.findtext("cap:valueName", namespaces=NS)): present(
            p.findtext("cap:value", namespaces=NS)
        )
        for p in alert.iterfind("cap:info/cap:parameter", NS)
    }


def test_every_message_of_a_lifecycle_validates(zones: dict[str, Zone]) -> None:
    """Alert, Updates and Cancel are valid CAP 1.2 (official XSD), with references chaining them."""
    schema = cap_schema()
    messages = lifecycle([1, 2, 3, 4, 0])
    for m in messages:
        doc = cap_document(m, zones["zhapu-harbour"], sender=SENDER, web="http://x.invalid/")
        schema.validate(doc)
    cancel = ET.fromstring(
        cap_document(messages[-1], zones["zhapu-harbour"], sender=SENDER, web="x")
    )
    refs = present(cancel.findtext("cap:references", namespaces=NS)).split(" ")
    assert [r.split(",")[1] for r in refs] == [m.identifier for m in messages[:-1]]
    assert cancel.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert cancel.findtext("cap:info/cap:urgency", namespaces=NS) == "Past"
    assert cancel.findtext("cap:info/cap:responseType", namespaces=NS) == "AllClear"


@pytest.mark.parametrize(
    ("level", "severity", "cn", "awareness"),
    [
        (1, "Minor", "IV; blue; Minor", None),
        (2, "Moderate", "III; yellow; Moderate", "2; yellow; Moderate"),
        (3, "Severe", "II; orange; Severe", "3; orange; Severe"),
        (4, "Extreme", "I; red; Extreme", "4; red; Extreme"),
    ],
)
def test_colour_maps_to_severity_and_levels(
    zones: dict[str, Zone], level: int, severity: str, cn: str, awareness: str | None
) -> None:
    """Severity per colour; CN_warning_level always; awareness_level only from yellow (no blue)."""
    m = lifecycle([level])[0]
    alert = ET.fromstring(cap_document(m, zones["zhapu-harbour"], sender=SENDER, web="x"))
    assert alert.findtext("cap:info/cap:severity", namespaces=NS) == severity
    assert params(alert).get("CN_warning_level") == cn
    assert params(alert).get("awareness_level") == awareness


def test_observed_is_immediate_and_forecast_is_expected(zones: dict[str, Zone]) -> None:
    """A level already reached is Immediate/Observed; a forecast peak ahead is Expected/Likely."""
    now = lifecycle([3])[0]
    ahead = lifecycle([3], peak_s=1_790_000_000.0 + 6 * 3600)[0]
    for m, urgency, certainty in ((now, "Immediate", "Observed"), (ahead, "Expected", "Likely")):
        alert = ET.fromstring(cap_document(m, zones["zhapu-harbour"], sender=SENDER, web="x"))
        assert alert.findtext("cap:info/cap:urgency", namespaces=NS) == urgency
        assert alert.findtext("cap:info/cap:certainty", namespaces=NS) == certainty


def test_area_is_the_zone_polygon_lat_first_closed_with_geocode(zones: dict[str, Zone]) -> None:
    """The polygon is the zone's ring as 'lat,lon' pairs, first = last; the geocode is the admin code."""
    zone = zones["zhapu-harbour"]
    pairs = cap_polygon(zone).split(" ")
    assert len(pairs) >= 4
    assert pairs[0] == pairs[-1]
    lat, lon = map(float, pairs[0].split(","))
    assert (lon, lat) == pytest.approx(zone.polygon[0][0])
    alert = ET.fromstring(cap_document(lifecycle([2])[0], zone, sender=SENDER, web="x"))
    assert alert.findtext("cap:info/cap:area/cap:geocode/cap:value", namespaces=NS) == zone.geocode


def test_times_carry_an_offset_never_z(zones: dict[str, Zone]) -> None:
    """CAP times are YYYY-MM-DDThh:mm:ss±hh:mm (no 'Z')."""
    alert = ET.fromstring(
        cap_document(lifecycle([2])[0], zones["zhapu-harbour"], sender=SENDER, web="x")
    )
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", present(alert.findtext("cap:sent", namespaces=NS))
    )


def test_atom_feed_entries_carry_valid_cap_and_link_it(zones: dict[str, Zone]) -> None:
    """Each Atom entry links its .cap and carries the CAP alert inline, which validates."""
    schema = cap_schema()
    messages = lifecycle([2, 4])
    feed = ET.fromstring(
        atom_feed(
            messages,
            zones,
            sender=SENDER,
            base_url="http://h",
            now_s=1.8e9,
            link=lambda i: f"http://h/{i}.cap",
        )
    )
    entries = feed.findall("atom:entry", NS)
    assert len(entries) == 2
    for entry, m in zip(entries, messages, strict=True):
        assert present(entry.find("atom:link", NS)).get("href") == f"http://h/{m.identifier}.cap"
        alert = present(entry.find("atom:content/cap:alert", NS))
        schema.validate(ET.tostring(alert))
