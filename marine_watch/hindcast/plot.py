"""The hindcast plot of one gauge: what a duty officer would have seen, against what happened.

Top panel: the observed level, the predicted tide, the forecast high water the pipeline worked
with at each evaluation (the highest of the outlook), the four warning levels, and every alert
raised, updated or cancelled for the gauge's village. Bottom strip: the village's colour over time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

from marine_watch.alerts.book import MsgType, Subject
from marine_watch.hindcast.case import GaugeCase, village_of
from marine_watch.hindcast.outcome import Outcome
from risk_models import tide

if TYPE_CHECKING:
    from matplotlib.axes import Axes


#: The warning colours as drawn (none, blue, yellow, orange, red); unknown is grey.
DRAWN = {
    "none": "#e8f5e9",
    "blue": "#1e64c8",
    "yellow": "#f2c200",
    "orange": "#f07800",
    "red": "#d0021b",
    "unknown": "#9e9e9e",
}
COLOUR_NAMES = ("none", "blue", "yellow", "orange", "red")


def _dates(ts_s: np.ndarray) -> list[datetime]:
    return [datetime.fromtimestamp(float(t), UTC) for t in ts_s]


def _x(ts_s: float) -> float:
    """A time as matplotlib's date number: days since its epoch, 1970-01-01 by default."""
    return ts_s / 86400.0


def plot_gauge(out: Outcome, gauge: GaugeCase, path: Path) -> None:
    """Write the plot of ``gauge`` to ``path`` (PNG)."""
    case = out.case
    record = out.records[gauge.station]
    window = (record.times_s >= case.start_s) & (record.times_s <= case.end_s)
    grid = np.arange(case.start_s, case.end_s + 1.0, 600.0)
    predicted = tide.predict(out.constants[gauge.station], grid)
    samples = out.samples.get(gauge.station, [])
    fig = Figure(figsize=(13, 7.2), layout="constrained")
    ax, band = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [6, 1]})
    thresholds = gauge.thresholds_m.as_dict()
    for name, level in thresholds.items():
        ax.axhline(level, color=DRAWN[name], lw=1.4, ls="--", zorder=1)
        ax.annotate(
            f"{name} {level:.2f} m",
            (1.0, level),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color=DRAWN[name],
            fontweight="bold",
        )
    ax.plot(_dates(grid), predicted, color="#7a7a7a", lw=1.0, label="predicted tide")
    ax.plot(
        _dates(record.times_s[window]),
        record.values_m[window],
        color="#111111",
        lw=1.6,
        label="observed",
    )
    decided = [(s.ts_s, s.value_m) for s in samples if s.value_m is not None]
    if decided and out.method != "observed":
        t, v = np.array(decided).T
        ax.step(
            _dates(t),
            v,
            where="post",
            color="#8e24aa",
            lw=1.2,
            label=f"forecast: highest high water of the next {out.catalogue.rules.outlook_hours} h ({out.method})",
        )
    _alerts(ax, out, gauge)
    ax.set_ylabel(f"water level, m ({gauge.datum})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3, fontsize=9, frameon=False)
    ax.set_title(
        f"{case.title}: {gauge.name}, forecast '{out.method}'; "
        f"levels {gauge.thresholds_m.status} ({gauge.thresholds_m.source.split(':')[0]}); times UTC",
        fontsize=10,
        pad=24,
    )
    _band(band, out, gauge, case.start_s, case.end_s)
    band.xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%H:%M"))  # type: ignore[no-untyped-call]
    fig.savefig(path, dpi=110)


def _alerts(ax: Axes, out: Outcome, gauge: GaugeCase) -> None:
    """Every alert message as a line, each raise (an alert, or an update to a higher colour)
    bold and labelled with its time; all clears in green."""
    top = ax.get_ylim()[1]
    level = 0
    for m in out.messages:
        if m.subject != Subject.ZONE or m.subject_id != village_of(gauge):
            continue
        cancel = m.msg_type == MsgType.CANCEL
        colour = "#2e7d32" if cancel else DRAWN.get(m.colour, "#444444")
        raised = not cancel and m.level > level
        level = 0 if cancel else m.level
        ax.axvline(_x(m.sent_s), color=colour, lw=1.6 if raised else 0.6, alpha=0.8, zorder=0)
        if raised:
            label = f"{m.colour} {datetime.fromtimestamp(m.sent_s, UTC):%d %H:%M}"
            ax.annotate(
                label,
                (_x(m.sent_s), top),
                xytext=(2, -4),
                textcoords="offset points",
                rotation=90,
                va="top",
                fontsize=8,
                color=colour,
                fontweight="bold",
            )


def _band(band: Axes, out: Outcome, gauge: GaugeCase, start_s: float, end_s: float) -> None:

    village = village_of(gauge)
    rows = [r for r in out.timeline if r.place == village]
    edges = [start_s, *(r.ts_s for r in rows[1:]), end_s]
    names = [r.colour for r in rows] or ["unknown"]
    if rows and rows[0].ts_s > start_s:
        edges = [start_s, *(r.ts_s for r in rows), end_s]
        names = ["unknown", *names]
    for a, b, name in zip(edges[:-1], edges[1:], names, strict=True):
        band.axvspan(_x(a), _x(b), color=DRAWN.get(name, DRAWN["unknown"]))
    band.set_yticks([])
    band.set_ylabel("colour", rotation=0, ha="right", va="center")
    band.set_xlim(_x(start_s), _x(end_s))
