// A station's last 24 h as SVG: observed, predicted tide, surge residual, warning tide levels.
import * as MW from "./common.js";

let W = 900;
let H = 250;
const M = { l: 46, r: 118, t: 12, b: 22 };
const { svg, COLOURS, t } = MW;
const HOUR = 3600;

function niceTicks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) || mag * 10;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(6));
  return out;
}

export function interp(series, ts) {
  if (!series.length || ts < series[0][0] || ts > series[series.length - 1][0]) return NaN;
  let lo = 0; let hi = series.length - 1;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (series[mid][0] <= ts) lo = mid; else hi = mid; }
  const [t0, v0] = series[lo]; const [t1, v1] = series[hi];
  return t1 === t0 ? v0 : v0 + ((v1 - v0) * (ts - t0)) / (t1 - t0);
}

function line(points, x, y) {
  let d = ""; let pen = false; let prev = null;
  for (const [ts, v] of points) {
    const gap = prev !== null && ts - prev > 3 * HOUR;  // do not draw across outages
    if (!Number.isFinite(v) || gap) pen = false;
    if (Number.isFinite(v)) { d += `${pen ? "L" : "M"}${x(ts).toFixed(1)},${y(v).toFixed(1)}`; pen = true; }
    prev = ts;
  }
  return d;
}

// data: {kind, unit, observed: [[ts, v, qc]], predicted: [[ts, v]], levels: {...}|null, now, from, to}
export function render(root, data) {
  root.replaceChildren();
  W = Math.max(300, root.clientWidth || W);
  H = Math.max(160, root.clientHeight || H);
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const { observed, predicted, levels, now, from, to, kind, unit } = data;
  const tide = kind === "tide_level" && predicted.length > 0;
  const mainH = tide ? H * 0.7 : H - M.b;
  const x = (ts) => M.l + ((ts - from) / (to - from)) * (W - M.l - M.r);
  const vals = [...observed.map((p) => p[1]), ...predicted.map((p) => p[1])].filter(Number.isFinite);
  const wl = levels && kind === "tide_level" ? ["blue", "yellow", "orange", "red"].filter((c) => levels[c] !== undefined) : [];
  if (!vals.length && !wl.length) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", text: t("no_readings") }));
    return;
  }
  let lo = Math.min(...vals, ...(wl.length ? [levels.blue - 0.3] : []));
  let hi = Math.max(...vals, ...wl.map((c) => levels[c] + 0.35));
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (hi - lo < 0.5) { lo -= 0.25; hi += 0.25; }
  const y = (v) => M.t + (1 - (v - lo) / (hi - lo)) * (mainH - M.t);
  const grid = svg("g", { class: "grid" });
  for (const v of niceTicks(lo, hi)) {
    grid.append(svg("line", { x1: M.l, x2: W - M.r, y1: y(v), y2: y(v) }));
    grid.append(svg("text", { x: M.l - 6, y: y(v) + 4, "text-anchor": "end", text: v.toFixed(Math.abs(hi - lo) < 5 ? 1 : 0) }));
  }
  const first = Math.ceil(from / (3 * HOUR)) * 3 * HOUR;
  for (let ts = first; ts <= to; ts += 3 * HOUR) {
    grid.append(svg("line", { x1: x(ts), x2: x(ts), y1: M.t, y2: H - M.b }));
    grid.append(svg("text", { x: x(ts), y: H - 6, "text-anchor": "middle", text: MW.fmtTime(ts) }));
  }
  grid.append(svg("text", { x: 6, y: M.t + 10, text: unit }));
  root.append(grid);

  const wlGroup = svg("g", { class: "wl", "data-testid": "warning-levels" });
  let labelY = Infinity;  // labels go upwards from blue and never overlap
  for (const c of wl) {
    const yy = y(levels[c]);
    labelY = Math.min(yy + 4, labelY - 12);
    wlGroup.append(svg("line", { x1: M.l, x2: W - M.r, y1: yy, y2: yy, stroke: COLOURS[c] }));
    wlGroup.append(svg("text", { x: W - M.r + 4, y: labelY, fill: COLOURS[c], text: `${t(`col_${c}`)} ${levels[c].toFixed(2)} ${levels.status === "SAMPLE" ? t("sample") : levels.status || ""}` }));
  }
  root.append(wlGroup);
  if (predicted.length) root.append(svg("path", { class: "pred", d: line(predicted, x, y), "data-testid": "predicted" }));
  root.append(svg("path", { class: "obs", d: line(observed, x, y), "data-testid": "observed" }));
  const latest = [...observed].reverse().find((p) => Number.isFinite(p[1]));
  if (latest) {
    root.append(svg("circle", { cx: x(latest[0]), cy: y(latest[1]), r: 4.5, fill: "#e9f3fb", stroke: "#0b1118", "stroke-width": 1.5 }));
    root.append(svg("text", { x: x(latest[0]) - 6, y: y(latest[1]) - 8, "text-anchor": "end", fill: "#e9f3fb", "font-weight": 700, text: `${latest[1].toFixed(2)} ${unit}` }));
  }
  const flagged = svg("g");
  for (const [ts, v, qc] of observed) if (qc && qc !== "ok" && Number.isFinite(v)) flagged.append(svg("circle", { class: "qcpt", cx: x(ts), cy: y(v), r: 3.5 }, svg("title", { text: `${t("qc_flag")}: ${qc}` })));
  root.append(flagged);

  if (tide) drawResidual(root, observed, predicted, x, mainH);
  const nowG = svg("g", { class: "now" });
  nowG.append(svg("line", { x1: x(now), x2: x(now), y1: M.t, y2: H - M.b }));
  nowG.append(svg("text", { x: x(now) + 4, y: M.t + 10, text: t("now") }));
  root.append(nowG);
  const key = svg("g", { class: "key", transform: `translate(${M.l + 8}, ${M.t + 6})` });
  key.append(svg("line", { x1: 0, x2: 18, y1: 4, y2: 4, class: "obs" }));
  key.append(svg("text", { x: 22, y: 8, text: `${t(`kind_${kind}`)} (${t("observed")})` }));
  if (predicted.length) {
    key.append(svg("line", { x1: 150, x2: 168, y1: 4, y2: 4, class: "pred" }));
    key.append(svg("text", { x: 172, y: 8, text: t("predicted") }));
  }
  root.append(key);
}

function drawResidual(root, observed, predicted, x, top) {
  const residual = observed.map(([ts, v]) => [ts, v - interp(predicted, ts)]).filter((p) => Number.isFinite(p[1]));
  const y0 = top + 8; const y1 = H - M.b;
  const vals = residual.map((p) => p[1]);
  const span = Math.max(0.5, ...vals.map(Math.abs));
  const y = (v) => (y0 + y1) / 2 - (v / span) * ((y1 - y0) / 2);
  const g = svg("g", { "data-testid": "residual" });
  g.append(svg("line", { x1: M.l, x2: W - M.r, y1: y(0), y2: y(0), stroke: "#2b3947" }));
  g.append(svg("text", { x: M.l - 6, y: y(span) + 8, "text-anchor": "end", text: `+${span.toFixed(1)}` }));
  g.append(svg("text", { x: M.l - 6, y: y(0) + 4, "text-anchor": "end", text: "0" }));
  if (residual.length) {
    const d = line(residual, x, y);
    g.append(svg("path", { class: "res", d }));
    const last = residual[residual.length - 1];
    g.append(svg("text", { x: W - M.r + 4, y: y(last[1]) + 4, fill: "#c38bff", "font-weight": 600, text: `${t("residual")} ${last[1] >= 0 ? "+" : ""}${last[1].toFixed(2)} m` }));
  } else {
    g.append(svg("text", { x: W - M.r + 4, y: y(0) + 4, fill: "#c38bff", text: t("residual") }));
  }
  root.append(g);
}
