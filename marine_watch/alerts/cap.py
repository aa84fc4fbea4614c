"""CAP 1.2 messages and the Atom feed of them (DOMAIN.md §6).

Colour → severity Minor/Moderate/Severe/Extreme; ``CN_warning_level`` for every colour and the
MeteoAlarm ``awareness_level`` from yellow up (MeteoAlarm has no blue). Urgency and certainty follow
§6.2: a threshold already reached is Immediate/Observed, a forecast one Expected/Likely with the
forecast high water's time as ``onset``, a cancel Past. ``responseType`` and ``instruction`` come per
hazard and colour from the advice table (config/advice.toml); one ``info`` per language (en-US,
zh-CN) with the texts fixed when the message was made. Times carry an explicit offset (+08:00),
never "Z". Polygons are "lat,lon" pairs, closed.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

from marine_watch.alerts.book import AlertMessage, MsgType, Subject
from sensors.catalogue import Zone

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CHINA = timezone(timedelta(hours=8))
SEVERITY = {1: "Minor", 2: "Moderate", 3: "Severe", 4: "Extreme"}
ROMAN = {1: "IV", 2: "III", 3: "II", 4: "I"}
AWARENESS = {2: "2; yellow; Moderate", 3: "3; orange; Severe", 4: "4; red; Extreme"}
EVENTS = {
    "storm_surge": ("Storm surge warning", "Met"),
    "waves": ("Wave warning", "Met"),
    "wind": ("Gale warning", "Met"),
    "overtopping": ("Dike overtopping warning", "Met"),
    "red_tide": ("Red tide warning", "Env"),
}
EVENTS_ZH = {
    "storm_surge": "风暴潮预警",
    "waves": "海浪预警",
    "wind": "大风预警",
    "overtopping": "海堤越浪预警",
    "red_tide": "赤潮预警",
}
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
FEED_SIZE = 50  # public zone messages in the Atom feed (and on the retained alerts topic)


def cap_time(ts_s: float) -> str:
    """CAP dateTime: seconds and an explicit offset."""
    return datetime.fromtimestamp(ts_s, CHINA).isoformat(timespec="seconds")


def cap_polygon(zone: Zone) -> str:
    """The zone's outer ring as CAP "lat,lon" pairs, closed."""
    ring = [(lat, lon) for lon, lat in zone.polygon[0]]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in ring)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _onset(message: AlertMessage) -> float | None:
    """When the warned level is reached: the forecast high water's time, if given (else the peak)."""
    exp = message.explanation or {}
    for key in ("onset_s", "peak_time_s"):
        value = exp.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def _urgency(message: AlertMessage) -> tuple[str, str]:
    if message.msg_type == MsgType.CANCEL:
        return "Past", "Observed"
    onset = _onset(message)
    if onset is not None and onset > message.sent_s + 60:
        return "Expected", "Likely"
    return "Immediate", "Observed"


def cap_alert(message: AlertMessage, zone: Zone | None, *, sender: str, web: str) -> ET.Element:
    """One CAP 1.2 <alert> element."""
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", message.identifier)
    _sub(alert, "sender", sender)
    _sub(alert, "sent", cap_time(message.sent_s))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", message.msg_type.value)
    _sub(alert, "scope", "Public" if message.subject == Subject.ZONE else "Restricted")
    if message.subject == Subject.STATION:
        _sub(alert, "restriction", "duty officers")
    if message.references:
        refs = " ".join(f"{sender},{ident},{cap_time(sent)}" for ident, sent in message.references)
        _sub(alert, "references", refs)
    _sub(alert, "incidents", message.incident)
    _info(alert, message, zone, web)
    return alert


def _info(alert: ET.Element, message: AlertMessage, zone: Zone | None, web: str) -> None:
    texts = message.texts or {"en": {"headline": message.headline}}
    for lang, words in texts.items():
        if lang in LANGUAGES:
            _info_in(alert, message, zone, web, lang=lang, words=words)


def _info_in(
    alert: ET.Element,
    message: AlertMessage,
    zone: Zone | None,
    web: str,
    *,
    lang: str,
    words: Mapping[str, str],
) -> None:
    hazard = str((message.explanation or {}).get("hazard", "storm_surge"))
    event, category = EVENTS.get(hazard, ("Station silent", "Infra"))
    if message.subject == Subject.STATION:
        event, category = "Station silent", "Infra"
    elif lang == "zh":
        event = EVENTS_ZH.get(hazard, event)
    urgency, certainty = _urgency(message)
    info = _sub(alert, "info")
    _sub(info, "language", LANGUAGES[lang])
    _sub(info, "category", category)
    _sub(info, "event", event)
    response = "AllClear" if message.msg_type == MsgType.CANCEL else message.response_type
    if response:
        _sub(info, "responseType", response)
    _sub(info, "urgency", urgency)
    _sub(info, "severity", SEVERITY.get(message.level, "Unknown"))
    _sub(info, "certainty", certainty)
    onset = _onset(message)
    if message.msg_type != MsgType.CANCEL and onset is not None and urgency == "Expected":
        _sub(info, "onset", cap_time(onset))
    _sub(info, "senderName", "marine_watch (SAMPLE coast)")
    _sub(info, "headline", words.get("headline", message.headline))
    _sub(info, "description", words.get("description") or _description(message))
    if words.get("instruction"):
        _sub(info, "instruction", words["instruction"])
    _sub(info, "web", web)
    if message.level in ROMAN:
        level = message.level
        _parameter(info, "CN_warning_level", f"{ROMAN[level]}; {message.colour}; {SEVERITY[level]}")
    if message.level in AWARENESS:
        _parameter(info, "awareness_level", AWARENESS[message.level])
    area = _sub(info, "area")
    area_desc = (zone.name_zh if lang == "zh" else f"{zone.name} {zone.name_zh}") if zone else ""
    _sub(area, "areaDesc", area_desc.strip() or message.subject_id)
    if zone is not None:
        _sub(area, "polygon", cap_polygon(zone))
        if zone.geocode:
            geocode = _sub(area, "geocode")
            _sub(geocode, "valueName", "CN_admin_code")
            _sub(geocode, "value", zone.geocode)


def _parameter(info: ET.Element, name: str, value: str) -> None:
    param = _sub(info, "parameter")
    _sub(param, "valueName", name)
    _sub(param, "value", value)


def _description(message: AlertMessage) -> str:
    exp = message.explanation or {}
    parts = [message.headline + "."]
    if "value" in exp and "threshold" in exp:
        parts.append(
            f"{exp.get('station')}: {exp['value']} {exp.get('unit', '')} against {exp['threshold']}"
            f" ({exp.get('datum', '')}, {exp.get('status', '')}: {exp.get('source', '')})."
        )
    if "forecast_source" in exp:
        parts.append(f"Forecast: {exp['forecast_source']}.")
    return " ".join(parts)


def cap_document(message: AlertMessage, zone: Zone | None, *, sender: str, web: str) -> bytes:
    """A standalone CAP XML document."""
    alert = cap_alert(message, zone, sender=sender, web=web)
    out: bytes = ET.tostring(
        alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS
    )
    return out


def atom_feed(
    messages: Iterable[AlertMessage],
    zones: Mapping[str, Zone],
    *,
    sender: str,
    base_url: str,
    now_s: float,
    link: Callable[[str], str],
) -> bytes:
    """An Atom feed; each entry links to its CAP message and carries it inline (OASIS CAP feeds)."""
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = f"{base_url}/api/v1/alerts.atom"
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = "marine_watch alerts (SAMPLE coast)"
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = datetime.fromtimestamp(
        now_s, UTC
    ).isoformat()
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = sender
    for m in messages:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = f"urn:cap:{m.identifier}"
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = m.headline
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = datetime.fromtimestamp(
            m.sent_s, UTC
        ).isoformat()
        ET.SubElement(
            entry,
            f"{{{ATOM_NS}}}link",
            rel="alternate",
            type="application/cap+xml",
            href=link(m.identifier),
        )
        content = ET.SubElement(entry, f"{{{ATOM_NS}}}content", type="application/cap+xml")
        content.append(cap_alert(m, zones.get(m.subject_id), sender=sender, web=link(m.identifier)))
    out: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return out
