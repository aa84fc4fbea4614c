// The duty-officer dashboard: the live coast over /ws/risk, tier counts, alerts, a station's 24 h.
import * as MW from "./common.js";
import * as AlertsPanel from "./alerts.js";
import * as StationChart from "./chart.js";
import * as CoastMap from "./map.js";

const { el, t } = MW;
const $ = (id) => document.getElementById(id);
const map = $("map");
const state = {
  zones: [], segments: [], stations: [],
  places: {}, summaries: {}, selected: null, kind: null, now: null,
  series: { observed: [], predicted: [], now: null },
};
const key = () => localStorage.getItem("mw.key") || "";
MW.extend({
  en: { no_data_since: "no data since {time}", lifted_by: "lifted by {by}", criteria: "{criteria}" },
  zh: { no_data_since: "自 {time} 起无数据", lifted_by: "已由 {by} 解除", criteria: "{criteria}" },
});
const fillIn = (key_, values) => t(key_).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "–");

// ---- places and summaries -------------------------------------------------------------------
// Station, zone and segment ids may coincide (station "zhapu", town "zhapu"): say which.
function placeName(id, kind = "zone") {
  const station = state.stations.find((x) => x.id === id);
  if (kind === "station" && station) return MW.name(station);
  const f = state.zones.find((z) => z.properties.id === id) || state.segments.find((s) => s.properties.id === id);
  return MW.name(f ? f.properties : station) || id;
}

function setPlace(place) {
  state.places[place.id] = place;
  CoastMap.paintPlace(map, place.id, place.colour, place.level);
}

function explain(exp, noData) {
  if (!exp) return noData?.length ? noData.join("; ") : "";
  const hazard = t(`hazard_${exp.hazard}`);
  const where = placeName(exp.station, "station");
  if (exp.colour === "unknown" || exp.level === -1) return `${hazard} · ${where}: ${exp.reason || t("col_unknown")}`;
  const value = exp.value === null || exp.value === undefined ? "–" : `${MW.fmtNum(exp.value)} ${exp.unit || ""}`;
  const bound = exp.threshold !== null && exp.threshold !== undefined ? ` ≥ ${MW.fmtNum(exp.threshold)}` : exp.next_threshold ? ` < ${MW.fmtNum(exp.next_threshold)}` : "";
  const peak = exp.peak_time_s ? ` @ ${MW.fmtTime(exp.peak_time_s)}` : "";
  const sample = exp.status === "SAMPLE" ? ` [${t("sample")}]` : "";
  const held = exp.lifted ? ` · ${fillIn("lifted_by", { by: exp.lifted.by })}`
    : exp.held && exp.no_data_since ? ` · ${fillIn("no_data_since", { time: exp.no_data_since.local })}` : "";
  const criteria = exp.criteria ? ` (${exp.criteria})` : "";
  return `${hazard} · ${where}: ${value}${peak}${bound}${sample}${criteria}${held}`;
}

function renderCity() {
  const city = state.zones.find((z) => z.properties.tier === "city");
  if (!city) return;
  const place = state.places[city.properties.id] || {};
  const badge = $("city-badge");
  badge.className = `city-badge bg-${place.colour || "unknown"}`;
  badge.textContent = MW.levelWord(place.level ?? -1);
  badge.dataset.colour = place.colour || "unknown";
  $("city-name").textContent = MW.name(city.properties);
  $("city-why").textContent = explain(place.explanation, place.no_data);
  $("city-why").title = $("city-why").textContent;
}

function renderTiers() {
  const table = $("tiers");
  const cols = MW.ORDER;
  const head = el("tr", {}, el("th", {}, ""), ...cols.map((c) => el("th", {}, el("span", { class: `sw bg-${c}` }), t(`col_${c}`))));
  const rows = ["city", "town", "village"].map((tier) => {
    const counts = Object.fromEntries(cols.map((c) => [c, 0]));
    for (const z of state.zones) {
      if (z.properties.tier !== tier) continue;
      counts[state.places[z.properties.id]?.colour || "unknown"] += 1;
    }
    return el("tr", { "data-tier": tier }, el("td", {}, t(`tier_${tier}`)),
      ...cols.map((c) => el("td", { class: `n${counts[c] ? "" : " zero"}`, "data-colour": c, style: counts[c] && c !== "none" && c !== "unknown" ? `color:${MW.COLOURS[c]}` : null }, String(counts[c]))));
  });
  table.replaceChildren(head, ...rows);
}

// Each station row is a button (Tab reaches it, Enter or Space opens the station); the rows are
// drawn anew on every refresh, so the keyboard focus is put back on the row that had it.
function renderStations() {
  const list = $("station-list");
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.station : null;
  list.replaceChildren();
  for (const s of state.stations) {
    const sum = state.summaries[s.id] || {};
    const levels = Object.values(sum.hazards || {});
    const worst = levels.length ? Math.max(...levels) : -1;
    const flagged = Object.values(sum.last || {}).some((r) => r.qc && r.qc !== "ok");
    const status = sum.status || "no_data";
    const selected = state.selected === s.id;
    list.append(el("button", {
      type: "button", class: `station-row${selected ? " selected" : ""}`, onclick: () => select(s.id),
      "data-testid": `station-row-${s.id}`, "data-station": s.id, "aria-pressed": selected ? "true" : "false",
    },
    el("span", {}, MW.name(s), s.sample ? el("span", { class: "tag-sample", style: "margin-left:6px" }, t("sample")) : null),
    flagged ? el("span", { class: "status qc" }, t("qc_flag")) : el("span", { class: `status ${status}` }, t(`status_${status}`)),
    el("span", { class: `chip bg-${MW.colourOf(worst)}` }, worst > 0 ? MW.levelWord(worst) : worst === 0 ? "–" : "?")));
    CoastMap.paintStation(map, s, sum, selected);
  }
  if (focused) list.querySelector(`[data-station="${CSS.escape(focused)}"]`)?.focus();
}

// A zone whose level moved is said in the colour-changes log (aria-live): the last few stay.
function noteChange(before, place) {
  if (!before || before.level === place.level || !state.zones.some((z) => z.properties.id === place.id)) return;
  const log = $("changes");
  log.append(el("div", {}, `${placeName(place.id)}: ${MW.levelWord(before.level)} → ${MW.levelWord(place.level)}`));
  while (log.childElementCount > 5) log.firstElementChild.remove();
}

function renderAll() {
  for (const place of Object.values(state.places)) CoastMap.paintPlace(map, place.id, place.colour, place.level);
  CoastMap.relabel(map, (id, node) => placeName(id, node.closest("[data-station]") ? "station" : "zone"));
  renderCity(); renderTiers(); renderStations(); renderStation();
}

// ---- hover tip ----------------------------------------------------------------------------------
function hover(event, kind, id) {
  const tip = $("tip");
  if (!event) { tip.hidden = true; return; }
  const rect = map.parentElement.getBoundingClientRect();
  let title = placeName(id, kind);
  let body = "";
  if (kind === "station") {
    const sum = state.summaries[id] || {};
    title += ` · ${t(`status_${sum.status || "no_data"}`)}`;
    const held = (sum.no_data_since || []).map((m) => `${t(`hazard_${m.hazard}`)}: ${MW.levelWord(m.level)}, ${fillIn("no_data_since", { time: m.local })}`);
    body = held.length ? `${sum.reason || ""} · ${held.join(" · ")}` : sum.reason || Object.entries(sum.hazards || {}).map(([h, lv]) => `${t(`hazard_${h}`)}: ${MW.levelWord(lv)}`).join(" · ");
  } else {
    const place = state.places[id] || { level: -1, colour: "unknown" };
    title += ` · ${MW.levelWord(place.level)}`;
    body = explain(place.explanation, place.no_data);
    if (place.no_data?.length && place.explanation) body += ` · ${t("col_unknown")}: ${place.no_data.join("; ")}`;
  }
  tip.replaceChildren(el("b", {}, title), el("div", { class: "why" }, body));
  tip.hidden = false;
  tip.style.left = `${Math.min(event.clientX - rect.left + 14, rect.width - 330)}px`;
  tip.style.top = `${event.clientY - rect.top + 14}px`;
}

// ---- station panel ------------------------------------------------------------------------------
function select(id) {
  state.selected = id;
  const station = state.stations.find((s) => s.id === id);
  state.kind = station.kinds.includes("tide_level") ? "tide_level" : station.kinds[0];
  state.series = { observed: [], predicted: [], now: null };
  renderStations();
  renderStation();
  loadSeries();
  openFeed();
}

async function loadSeries() {
  const id = state.selected; const kind = state.kind;
  if (!id) return;
  const station = state.stations.find((s) => s.id === id);
  const readings = MW.getJSON(`/api/v1/stations/${id}/readings?kind=${kind}&every=10m`).catch(() => ({ points: [], to: null }));
  const tide = kind === "tide_level" && station.tide_constants ? MW.getJSON(`/api/v1/stations/${id}/tide?step_s=600`).catch(() => null) : Promise.resolve(null);
  const [r, p] = await Promise.all([readings, tide]);
  if (id !== state.selected || kind !== state.kind) return;
  const offset = p ? p.gauge_to_85_m : station.gauge_to_85_m || 0;
  state.series.observed = r.points.map((x) => [x.ts, kind === "tide_level" ? x.value - offset : x.value, x.qc]);
  state.series.predicted = p ? p.points.map((x) => [x.ts, x.value]) : [];
  state.series.now = p ? p.now_s : r.to ? Date.parse(r.to) / 1000 : Date.now() / 1000;
  state.now = Math.max(state.now || 0, state.series.now);
  renderStation();
}

let feed = null;
function openFeed() {
  feed?.close();
  feed = null;
  if (!key() || !state.selected) return;
  const station = state.stations.find((s) => s.id === state.selected);
  feed = MW.socket(`/ws/feeds?station=${encodeURIComponent(station.id)}`, {
    auth: key(),
    onMessage(m) {
      if (m.type !== "reading" || m.station !== state.selected) return;
      const sum = (state.summaries[m.station] ||= { last: {} });
      (sum.last ||= {})[m.kind] = { ts: m.ts, value: m.value, qc: m.qc };
      tick(m.ts);
      if (m.kind === state.kind) {
        const v = m.kind === "tide_level" ? m.value - (station.gauge_to_85_m || 0) : m.value;
        state.series.observed.push([m.ts, v, m.qc]);
        state.series.now = Math.max(state.series.now || 0, m.ts);
        scheduleStation();
      }
    },
  });
}
let stationTimer = null;
function scheduleStation() {
  if (stationTimer) return;
  stationTimer = setTimeout(() => { stationTimer = null; renderStation(); }, 400);
}

function renderStation() {
  const station = state.stations.find((s) => s.id === state.selected);
  $("station-placeholder").hidden = !!station;
  $("station-body").hidden = !station;
  if (!station) return;
  const sum = state.summaries[station.id] || {};
  $("station-title").textContent = `${MW.name(station)}${MW.lang === "zh" ? "" : ` · ${station.name_zh}`}`;
  const status = sum.status || "no_data";
  $("station-status").replaceChildren(el("span", { class: `status ${status}`, "data-testid": "station-status" }, t(`status_${status}`)), sum.reason ? ` ${sum.reason}` : "");
  const tabs = $("kind-tabs");
  tabs.replaceChildren(...station.kinds.map((k) => el("button", { class: k === state.kind ? "on" : "", onclick: () => { state.kind = k; loadSeries(); renderStation(); } }, t(`kind_${k}`))));
  const now = state.series.now || state.now || Date.now() / 1000;
  StationChart.render($("chart"), {
    kind: state.kind, unit: MW.UNITS[state.kind] ?? "",
    observed: state.series.observed, predicted: state.series.predicted,
    levels: station.warning_levels, now, from: now - 24 * 3600, to: now + 6 * 3600,
  });
  renderFacts(station, sum);
}

function renderFacts(station, sum) {
  const facts = $("station-facts");
  const rows = station.kinds.map((k) => {
    const r = sum.last?.[k];
    return el("tr", {}, el("td", {}, t(`kind_${k}`)),
      el("td", { class: "v" }, r ? `${MW.fmtNum(r.value)} ${MW.UNITS[k] ?? ""}` : "–", r && r.qc !== "ok" ? el("div", { class: "qcflag" }, `${t("qc_flag")}: ${r.qc}`) : null));
  });
  const hazards = Object.entries(sum.hazards || {}).map(([h, lv]) => el("div", {}, el("span", { class: `chip bg-${MW.colourOf(lv)}` }, MW.levelWord(lv)), ` ${t(`hazard_${h}`)}`));
  const wl = station.warning_levels;
  const cams = station.cameras || [];
  facts.replaceChildren(
    el("h3", {}, t("last_values")), el("table", {}, ...rows),
    el("h3", {}, t("hazards")), ...(hazards.length ? hazards : [el("div", {}, "–")]),
    wl ? el("h3", {}, t("warning_levels"), " ", el("span", { class: "tag-sample" }, wl.status === "SAMPLE" ? t("sample") : wl.status)) : null,
    wl ? el("div", { title: wl.source }, ["blue", "yellow", "orange", "red"].map((c) => el("span", { class: `chip bg-${c}`, style: "margin-right:3px" }, wl[c].toFixed(2))), ` m ${wl.datum}`) : null,
    el("h3", {}, t("cameras")),
    cams.length ? el("div", { "data-testid": "cameras" }, ...cams.map((url, i) => el("div", {}, el("a", { href: url, target: "_blank", rel: "noopener" }, `▶ ${t("cameras")} ${i + 1}`)))) : el("div", { class: "muted" }, t("no_cameras")),
  );
}

// ---- clock, connection, key ---------------------------------------------------------------------
function tick(ts) {
  if (!ts) return;
  state.now = Math.max(state.now || 0, ts);
  $("clock").textContent = MW.fmtTime(state.now, true);
}
function setConn(s) {
  const c = $("conn");
  c.className = `conn ${s}`;
  c.dataset.state = s;
  c.textContent = t(s === "live" ? "live" : s === "connecting" ? "connecting" : "offline");
}
function renderKey() {
  $("key-btn").textContent = key() ? `${t("signed_in")} · ${t("sign_out")}` : t("key");
}
function askKey() {
  const dialog = $("key-dialog");
  $("key-input").value = "";
  dialog.onclose = () => {
    if (dialog.returnValue === "ok" && $("key-input").value.trim()) {
      localStorage.setItem("mw.key", $("key-input").value.trim());
      renderKey(); AlertsPanel.connect(); openFeed();
    }
  };
  dialog.showModal();
}
// OK is the form's only submit button, so Enter in the field signs in (the ✕ closes without)
$("key-cancel").addEventListener("click", () => $("key-dialog").close("cancel"));
$("key-btn").addEventListener("click", () => {
  if (key()) { localStorage.removeItem("mw.key"); renderKey(); AlertsPanel.connect(); openFeed(); } else askKey();
});
$("lang-btn").addEventListener("click", () => MW.setLang(MW.lang === "zh" ? "en" : "zh"));
MW.onLang(() => { renderKey(); renderAll(); setConn($("conn").dataset.state || "connecting"); });

// ---- start --------------------------------------------------------------------------------------
let summaryTimer = null;
async function refreshStations() {
  try {
    const stations = await MW.getJSON("/api/v1/stations");
    for (const s of stations) state.summaries[s.id] = { id: s.id, status: s.status, reason: s.reason, last: s.last, hazards: s.hazards };
    renderStations();
    if (state.selected) renderStation();
  } catch (_) { /* the websocket state shows the outage */ }
}

async function start() {
  MW.applyStatic();
  renderKey();
  const [zones, segments, stations] = await Promise.all([
    MW.getJSON("/api/v1/zones"), MW.getJSON("/api/v1/segments"), MW.getJSON("/api/v1/stations"),
  ]);
  state.zones = zones.features; state.segments = segments.features; state.stations = stations;
  const drawMap = () => CoastMap.draw(map, { zones: state.zones, segments: state.segments, stations, onPick: select, onHover: hover });
  drawMap();
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { drawMap(); renderAll(); }, 200);
  });
  for (const f of [...state.zones, ...state.segments]) setPlace({ id: f.properties.id, ...f.properties });
  for (const s of stations) state.summaries[s.id] = { id: s.id, status: s.status, reason: s.reason, last: s.last, hazards: s.hazards };
  renderAll();
  AlertsPanel.init({ container: $("alerts"), countEl: $("alerts-count"), liveEl: $("alerts-live"), getKey: key, placeName, askKey });
  MW.socket("/ws/risk", {
    onState: setConn,
    onMessage(m) {
      if (m.type === "snapshot") {
        m.places.forEach(setPlace);
        for (const s of m.stations) state.summaries[s.id] = s;
        tick(m.ts);
        renderAll();
        document.body.dataset.snapshot = "1";
      } else if (m.type === "zone" || m.type === "segment") {
        const before = state.places[m.id];
        setPlace(m);
        noteChange(before, m);
        tick(m.ts);
        renderCity(); renderTiers();
        clearTimeout(summaryTimer);
        summaryTimer = setTimeout(refreshStations, 250);  // hazards and status moved too
      }
    },
  });
  setInterval(refreshStations, 10000);
  const pollClock = () => fetch("/health").then((r) => r.json()).then((b) => tick(b.now_s)).catch(() => {});
  pollClock();
  setInterval(pollClock, 5000);  // the service clock (scaled in the demo) moves between changes too
  setInterval(() => { if (state.selected) loadSeries(); }, 30000);
  document.body.dataset.ready = "1";
}
start().catch((error) => {
  document.body.dataset.error = error.message;
  $("station-placeholder").textContent = `⚠ ${error.message}`;
});
