// The coast as SVG: sea, villages filled by colour, town and city outlines, dikes, stations.
import * as MW from "./common.js";

let W = 1000;
let H = 560;
const { svg, COLOURS } = MW;

function fillOf(colour) {
  return colour === "unknown" ? "url(#hatch)" : COLOURS[colour] || COLOURS.unknown;
}
function fillOpacity(colour) {
  return { none: 0.28, unknown: 1, blue: 0.62, yellow: 0.66, orange: 0.7, red: 0.74 }[colour] ?? 0.5;
}

function defs() {
  return svg("defs", {},
    svg("pattern", { id: "hatch", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      svg("rect", { width: 8, height: 8, fill: "#2a313b" }),
      svg("line", { x1: 0, y1: 0, x2: 0, y2: 8, stroke: "#7b8494", "stroke-width": 3 })),
    svg("linearGradient", { id: "sea", x1: 0, y1: 0, x2: 0, y2: 1 },
      svg("stop", { offset: "0", "stop-color": "#123249" }),
      svg("stop", { offset: "1", "stop-color": "#081826" })),
    svg("filter", { id: "glow", x: "-50%", y: "-50%", width: "200%", height: "200%" },
      svg("feGaussianBlur", { stdDeviation: 3, result: "b" }),
      svg("feMerge", {}, svg("feMergeNode", { in: "b" }), svg("feMergeNode", { in: "SourceGraphic" }))));
}

// The sea: south-east of the dike line, out to the edge of the view.
function seaPath(segments, proj) {
  const lines = segments.map((f) => f.geometry.coordinates).sort((a, b) => a[0][0] - b[0][0]);
  const coast = lines.flat();
  if (!coast.length) return "";
  const pts = coast.map(proj.project);
  const first = pts[0];
  const last = pts[pts.length - 1];
  const ring = [[-50, first[1] - 4], ...pts, [W + 50, last[1] - (last[1] - first[1]) * 0.25], [W + 50, H + 50], [-50, H + 50]];
  return ring.map((p, i) => `${i ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join("") + "Z";
}

// ---- labels: inside their zone, clear of each other and of the station markers -------------------
function inside(pts, x, y) {
  let hit = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i]; const [xj, yj] = pts[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}
function edgeDistance(pts, x, y) {
  let best = Infinity;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [ax, ay] = pts[j]; const [bx, by] = pts[i];
    const dx = bx - ax; const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
    best = Math.min(best, Math.hypot(x - ax - t * dx, y - ay - t * dy));
  }
  return best;
}
// The interior point farthest from the zone's edges (its "pole of inaccessibility", on a grid).
function interiorPoint(pts) {
  const xs = pts.map((p) => p[0]); const ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const step = Math.max(2, Math.min(x1 - x0, y1 - y0) / 16);
  let best = [(x0 + x1) / 2, (y0 + y1) / 2]; let far = -1;
  for (let x = x0; x <= x1; x += step) {
    for (let y = y0; y <= y1; y += step) {
      const d = inside(pts, x, y) ? edgeDistance(pts, x, y) : -1;
      if (d > far) { far = d; best = [x, y]; }
    }
  }
  return best;
}

// Offsets from a label's anchor to try, nearest first: up to 120 px aside and 60 px up or down.
const steps = (limit, step) => [0, ...Array.from({ length: limit / step }, (_, i) => [(i + 1) * step, -(i + 1) * step]).flat()];
const NUDGES = steps(120, 10).flatMap((dx) => steps(60, 6).map((dy) => [dx, dy]))
  .sort((a, b) => Math.hypot(a[0] / 2, a[1]) - Math.hypot(b[0] / 2, b[1]));
const overlap = (a, b) => Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x))
  * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
// A node's bounding box in the map's own coordinates (through any transform on the way), padded.
function box(node, pad) {
  const b = node.getBBox();
  const m = node.ownerSVGElement.getScreenCTM().inverse().multiply(node.getScreenCTM());
  const corners = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]]
    .map(([x, y]) => new DOMPoint(x, y).matrixTransform(m));
  const xs = corners.map((c) => c.x); const ys = corners.map((c) => c.y);
  const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
  return { x: x0 - pad, y: y0 - pad, w: Math.max(...xs) - x0 + 2 * pad, h: Math.max(...ys) - y0 + 2 * pad };
}

function before(a, b) {  // lexicographic a < b
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
// Place each label (towns first, then villages) at the first nudge from its anchor that keeps it
// clear of the labels placed so far, every station marker and the legend, preferring spots inside
// its zone.
function placeLabels(root) {
  const taken = [...root.querySelectorAll(".station .body, .label-bay, .legend .bg")].map((n) => box(n, 2));
  const rings = new Map();
  for (const path of root.querySelectorAll("path.zone-village, path.zone-town")) rings.set(path.dataset.zone, path.__ring);
  for (const node of root.querySelectorAll(".label-town, .label-village")) {
    const ax = Number(node.dataset.ax); const ay = Number(node.dataset.ay);
    const ring = rings.get(node.dataset.name);
    // rank: clear of others first, then inside its own zone, then least overlap, then nearest
    let best = null;
    NUDGES.forEach(([dx, dy], i) => {
      node.setAttribute("x", (ax + dx).toFixed(1)); node.setAttribute("y", (ay + dy).toFixed(1));
      const b = box(node, 2);
      const hit = taken.reduce((sum, t) => sum + overlap(b, t), 0);
      const out = ring && !inside(ring, b.x + b.w / 2, b.y + b.h / 2) ? 1 : 0;
      const rank = [hit > 0 ? 1 : 0, out, hit, i];
      if (!best || before(rank, best.rank)) best = { rank, dx, dy };
    });
    node.setAttribute("x", (ax + best.dx).toFixed(1)); node.setAttribute("y", (ay + best.dy).toFixed(1));
    taken.push(box(node, 2));
  }
}

function scaleBar(proj) {
  const km = 5;
  const len = (km * 1000) / proj.metresPerUnit;
  const x = W - len - 30; const y = H - 24;
  return svg("g", { class: "legend" },
    svg("line", { x1: x, y1: y, x2: x + len, y2: y, stroke: "#c9d6e3", "stroke-width": 2 }),
    svg("line", { x1: x, y1: y - 5, x2: x, y2: y + 1, stroke: "#c9d6e3", "stroke-width": 2 }),
    svg("line", { x1: x + len, y1: y - 5, x2: x + len, y2: y + 1, stroke: "#c9d6e3", "stroke-width": 2 }),
    svg("text", { x: x + len / 2, y: y - 7, "text-anchor": "middle", text: `${km} km` }),
    svg("text", { x: W - 22, y: 30, "text-anchor": "middle", "font-size": 13, "font-weight": 700, text: "N" }),
    svg("path", { d: `M${W - 22},36 l-6,16 l6,-4 l6,4 z`, fill: "#c9d6e3" }));
}

function legend() {
  const g = svg("g", { class: "legend", transform: `translate(12, ${H - 124})` });
  const bg = svg("rect", { class: "bg", x: 0, y: 0, width: 214, height: 112, rx: 5 });
  g.append(bg);
  const items = ["red", "orange", "yellow", "blue", "none", "unknown"];
  items.forEach((c, i) => {
    const y = 16 + i * 16;
    g.append(svg("rect", { x: 10, y: y - 9, width: 16, height: 11, fill: fillOf(c), "fill-opacity": c === "none" ? 0.6 : 1, rx: 2 }));
    g.append(svg("text", { x: 32, y, "data-i18n-level": c, text: MW.t(`col_${c}`) }));
  });
  g.append(svg("line", { x1: 104, y1: 10, x2: 124, y2: 10, stroke: COLOURS.orange, "stroke-width": 5, "stroke-linecap": "round" }));
  g.append(svg("text", { x: 130, y: 14, "data-i18n": "legend_dike", text: MW.t("legend_dike") }));
  g.append(svg("circle", { cx: 114, cy: 30, r: 6, fill: COLOURS.blue, stroke: "#fff", "stroke-width": 2 }));
  g.append(svg("text", { x: 130, y: 34, "data-i18n": "legend_station", text: MW.t("legend_station") }));
  g.append(svg("circle", { cx: 114, cy: 50, r: 6, fill: "#4a525e", stroke: "#c2c9d3", "stroke-width": 2, "stroke-dasharray": "3 2" }));
  g.append(svg("text", { x: 130, y: 54, "data-i18n": "legend_stale", text: MW.t("legend_stale") }));
  g.append(svg("path", { d: "M114,64 l6,10 h-12 z", class: "badge-qc", fill: COLOURS.orange }));
  g.append(svg("text", { x: 130, y: 73, "data-i18n": "legend_qc", text: MW.t("legend_qc") }));
  g.append(svg("text", { x: 104, y: 94, fill: "#f3d98b", "font-size": 10.5, "data-i18n": "legend_sample", text: MW.t("legend_sample") }));
  return g;
}

function stationShape(station) {
  const buoy = station.kinds.includes("wave_height");
  return buoy
    ? svg("rect", { class: "body", x: -6.5, y: -6.5, width: 13, height: 13, transform: "rotate(45)" })
    : svg("circle", { class: "body", r: 7 });
}

export function draw(root, { zones, segments, stations, onPick, onHover }) {
  root.replaceChildren();
  W = Math.max(400, root.clientWidth || W);
  H = Math.max(300, root.clientHeight || H);
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const rings = zones.map((f) => f.geometry.coordinates[0]);
  const lines = segments.map((f) => f.geometry.coordinates);
  const pts = stations.map((s) => [s.lon, s.lat]);
  const proj = MW.projection(MW.bboxOf([...rings, ...lines, pts]), W, H, 28);
  root.append(defs());
  root.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#141d19" }));
  root.append(svg("path", { d: seaPath(segments, proj), fill: "url(#sea)" }));
  const byTier = (tier) => zones.filter((f) => f.properties.tier === tier);
  const layer = (name) => { const g = svg("g", { class: `layer-${name}` }); root.append(g); return g; };

  const city = layer("city-fill");
  for (const f of byTier("city")) city.append(svg("path", { d: MW.pathOf(f.geometry.coordinates[0], proj.project), fill: "#1a2620" }));
  const villages = layer("villages");
  for (const f of byTier("village")) {
    const p = svg("path", {
      class: "zone-village", d: MW.pathOf(f.geometry.coordinates[0], proj.project),
      "data-zone": f.properties.id, "data-testid": `zone-${f.properties.id}`,
    });
    p.addEventListener("mousemove", (e) => onHover(e, "zone", f.properties.id));
    p.addEventListener("mouseleave", () => onHover(null));
    villages.append(p);
  }
  const towns = layer("towns");
  for (const f of byTier("town")) {
    towns.append(svg("path", { class: "zone-town", d: MW.pathOf(f.geometry.coordinates[0], proj.project), "data-zone": f.properties.id, "data-testid": `zone-${f.properties.id}` }));
  }
  const cities = layer("cities");
  for (const f of byTier("city")) {
    cities.append(svg("path", { class: "zone-city", d: MW.pathOf(f.geometry.coordinates[0], proj.project), "data-zone": f.properties.id, "data-testid": `zone-${f.properties.id}` }));
  }
  const dikes = layer("dikes");
  for (const f of segments) {
    const d = MW.pathOf(f.geometry.coordinates, proj.project, false);
    dikes.append(svg("path", { class: "dike-casing", d }));
    const p = svg("path", { class: "dike", d, "data-segment": f.properties.id, "data-testid": `segment-${f.properties.id}` });
    p.addEventListener("mousemove", (e) => onHover(e, "segment", f.properties.id));
    p.addEventListener("mouseleave", () => onHover(null));
    dikes.append(p);
  }
  const labels = layer("labels");
  const seaAt = proj.project([121.16, 30.585]);
  labels.append(svg("text", { class: "label-bay", x: seaAt[0], y: seaAt[1], "text-anchor": "middle", "data-i18n": "bay", text: MW.t("bay") }));
  for (const [tier, cls] of [["town", "label-town"], ["village", "label-village"]]) {
    for (const f of byTier(tier)) {
      const ring = f.geometry.coordinates[0].map(proj.project);
      root.querySelector(`path.zone-${tier}[data-zone="${f.properties.id}"]`).__ring = ring;
      const [x, y] = interiorPoint(ring);
      labels.append(svg("text", {
        class: cls, x, y, "data-ax": x, "data-ay": y, "text-anchor": "middle", "dominant-baseline": "middle",
        "data-name": f.properties.id, "data-testid": `label-${f.properties.id}`,
      }));
    }
  }
  const marks = layer("stations");
  for (const s of stations) {
    const [x, y] = proj.project([s.lon, s.lat]);
    const g = svg("g", { class: "station", transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`, "data-station": s.id, "data-testid": `station-${s.id}` },
      svg("circle", { class: "ring", r: 13 }),
      stationShape(s),
      svg("circle", { class: "badge-stale", cx: -8, cy: -8, r: 0 }),
      svg("path", { class: "badge-qc", d: "M8,-15 l6,10 h-12 z", visibility: "hidden" }),
      svg("text", { x: 11, y: 4, "data-name": s.id }));
    MW.activatable(g, MW.name(s), () => onPick(s.id));
    // focus shows what hovering shows, beside the marker
    g.addEventListener("focus", () => {
      const r = g.getBoundingClientRect();
      onHover({ clientX: r.right, clientY: r.bottom }, "station", s.id);
    });
    g.addEventListener("blur", () => onHover(null));
    g.addEventListener("mousemove", (e) => onHover(e, "station", s.id));
    g.addEventListener("mouseleave", () => onHover(null));
    marks.append(g);
  }
  root.append(legend());
  root.append(scaleBar(proj));
  return proj;
}

export function paintPlace(root, id, colour, level) {
  for (const node of root.querySelectorAll(`[data-zone="${id}"], [data-segment="${id}"]`)) {
    node.dataset.colour = colour;
    node.dataset.level = String(level);
    if (node.classList.contains("zone-village")) {
      node.setAttribute("fill", fillOf(colour));
      node.setAttribute("fill-opacity", String(fillOpacity(colour)));
    } else if (node.classList.contains("zone-town")) {
      node.setAttribute("stroke", level > 0 ? COLOURS[colour] : colour === "unknown" ? COLOURS.unknown : "#9fb3c6");
    } else if (node.classList.contains("dike")) {
      node.setAttribute("stroke", colour === "none" ? "#5f8f74" : COLOURS[colour] || COLOURS.unknown);
      node.setAttribute("filter", level >= 3 ? "url(#glow)" : "");
    }
  }
}

export function paintStation(root, station, summary, selected) {
  const g = root.querySelector(`[data-station="${station.id}"]`);
  if (!g) return;
  const levels = Object.values(summary?.hazards || {});
  const worst = levels.length ? Math.max(...levels) : -1;
  const body = g.querySelector(".body");
  body.setAttribute("fill", worst >= 0 ? COLOURS[MW.colourOf(worst)] : "#4a525e");
  const stale = !summary || summary.status !== "ok";
  g.classList.toggle("stale", stale);
  g.dataset.status = summary?.status || "no_data";
  const flagged = Object.values(summary?.last || {}).some((r) => r.qc && r.qc !== "ok");
  g.dataset.qc = flagged ? "flagged" : "ok";
  g.querySelector(".badge-qc").setAttribute("visibility", flagged ? "visible" : "hidden");
  g.classList.toggle("selected", selected);
  g.setAttribute("aria-pressed", selected ? "true" : "false");
}

export function relabel(root, names) {
  for (const node of root.querySelectorAll("[data-name]")) node.textContent = names(node.dataset.name, node);
  for (const node of root.querySelectorAll("[data-station]")) node.setAttribute("aria-label", names(node.dataset.station, node));
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = MW.t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-level]")) node.textContent = MW.t(`col_${node.dataset.i18nLevel}`);
  placeLabels(root);  // the words changed: their widths too
}
