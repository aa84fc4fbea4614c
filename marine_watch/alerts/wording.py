"""The words of an alert, in English and Chinese: headline, description, instruction, responseType.

Places are named by their names (zone, station and seawall names with their Chinese names), never by
raw ids. Severity words follow CAP (blue = Minor 一般 … red = Extreme 特别严重, docs/DOMAIN.md §1.2);
responseType and instruction come from the advice table (config/advice.toml, SAMPLE policy based on
docs/DOMAIN.md §6.2). Texts are fixed when a message is made, so a sent message never changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from marine_watch.risk.last_known import local_hhmm
from sensors.catalogue import Catalogue, DikeSegment, Station

Texts = dict[str, dict[str, str]]  # language ("en", "zh") → headline, description, instruction
HAZARD_WORDS = {
    "storm_surge": ("storm surge", "风暴潮"),
    "waves": ("wave", "海浪"),
    "wind": ("wind", "大风"),
    "overtopping": ("seawall overtopping", "越浪"),
    "red_tide": ("red tide", "赤潮"),
}
COLOUR_WORDS = {
    0: ("none", "无"),
    1: ("blue", "蓝色"),
    2: ("yellow", "黄色"),
    3: ("orange", "橙色"),
    4: ("red", "红色"),
}
SEVERITY_WORDS = {1: "minor", 2: "moderate", 3: "severe", 4: "extreme"}


class Wording:
    """Names of places and the advice table, turned into alert texts."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._advice = catalogue.advice
        # station, zone and segment ids may coincide (station "zhapu", town "zhapu"): two maps
        points: list[Station | DikeSegment] = [*catalogue.stations, *catalogue.segments]
        self._points = {i.id: (i.name, i.name_zh or i.name) for i in points}
        self._zones = {z.id: (z.name, z.name_zh or z.name) for z in catalogue.zones}

    def name(self, place: str, *, zone: bool = False) -> tuple[str, str]:
        """(English name with the Chinese one, Chinese name) of a station or segment, or a zone."""
        en, zh = (self._zones if zone else self._points).get(place, (place, place))
        return (f"{en} ({zh})" if zh != en else en), zh

    def zone(
        self,
        kind: str,
        zone: str,
        hazard: str,
        level: int,
        explanation: Mapping[str, object] | None,
        *,
        previous: int | None = None,
    ) -> tuple[Texts, str | None]:
        """Texts and responseType of a zone message; kind is "alert", "update" or "cancel"."""
        en_place, zh_place = self.name(zone, zone=True)
        h_en, h_zh = HAZARD_WORDS.get(hazard, ("marine hazard", "海洋灾害"))
        c_en, c_zh = COLOUR_WORDS.get(level, ("unknown", "未知"))
        if kind == "cancel":
            head_en = f"All clear: {h_en} warning for {en_place} lifted"
            head_zh = f"{zh_place}{h_zh}预警解除"
        elif kind == "update" and previous is not None:
            verb_en, verb_zh = ("raised", "升级") if level > previous else ("lowered", "降级")
            head_en = f"{h_en.capitalize()} warning for {en_place} {verb_en} to {c_en}"
            head_zh = f"{zh_place}{h_zh}预警{verb_zh}为{c_zh}"
        else:
            head_en = f"{c_en.capitalize()} {h_en} warning for {en_place}"
            head_zh = f"{zh_place}{h_zh}{c_zh}预警"
        desc_en, desc_zh = self._describe(explanation or {})
        entry = self._advice.entry(hazard, level) if kind != "cancel" else None
        texts = {
            "en": {
                "headline": head_en,
                "description": " ".join(p for p in (head_en + ".", desc_en) if p),
                "instruction": entry.instruction_en if entry else "",
            },
            "zh": {
                "headline": head_zh,
                "description": "。".join(p for p in (head_zh, desc_zh) if p) + "。",
                "instruction": entry.instruction_zh if entry else "",
            },
        }
        return texts, (entry.response_type if entry else None)

    def station(self, station: str, silent: bool, reason: str | None) -> Texts:
        """Texts of a station's own alert (silent) or its cancel (reports again)."""
        en, zh = self.name(station)
        if silent:
            return {
                "en": {"headline": f"Station {en} is silent: {reason}", "description": ""},
                "zh": {"headline": f"{zh}停止报数（{reason}）", "description": ""},
            }
        return {
            "en": {"headline": f"Station {en} reports again", "description": ""},
            "zh": {"headline": f"{zh}恢复报数", "description": ""},
        }

    def _describe(self, exp: Mapping[str, object]) -> tuple[str, str]:
        station = str(exp.get("station", ""))
        if not station or "value" not in exp:
            return "", ""
        en_name, zh_name = self.name(station)
        value, unit = exp.get("value"), str(exp.get("unit", ""))
        when = exp.get("peak_time_s")
        at = f" at {local_hhmm(when)} (+08:00)" if isinstance(when, int | float) else ""
        at_zh = f"（{local_hhmm(when)}，北京时间）" if isinstance(when, int | float) else ""
        en = f"{en_name}: {value} {unit}{at}"
        zh = f"{zh_name}：{value} {unit}{at_zh}"
        if exp.get("threshold") is not None:
            datum = f" {exp['datum']}" if exp.get("datum") else ""
            status = f" [{exp.get('status')}: {exp.get('source')}]"
            en += f", at or above {exp['threshold']} {unit}{datum}{status}"
            zh += f"，达到或超过 {exp['threshold']} {unit}{datum}{status}"
        if "forecast_source" in exp:
            en += f"; forecast: {exp['forecast_source']}"
            zh += f"；预报来源：{exp['forecast_source']}"
        since = exp.get("no_data_since")
        if isinstance(since, Mapping):
            en += f". No data since {since.get('local')} (+08:00): its last known level is kept"
            zh += f"。自 {since.get('local')}（北京时间）起无数据：保持最后已知等级"
        lifted = exp.get("lifted")
        if isinstance(lifted, Mapping):
            en += f". Lifted by {lifted.get('by')}: {lifted.get('note')}"
            zh += f"。已由 {lifted.get('by')} 解除：{lifted.get('note')}"
        return en + ".", zh
