// Resident page: where am I → what colour, what it means, what to do, why, where to go, whom to call.
// The position goes to /api/v1/risk only (never stored); the page refreshes over /ws/risk.
import * as MW from "./common.js";

const { el, svg, t } = MW;
const $ = (id) => document.getElementById(id);

// DOMAIN.md §1.2: colour → level and the standard severity words; advice per level (SAMPLE wording,
// to be replaced by the local emergency plan's text).
MW.extend({
  en: {
    r_title: "What colour is it here?",
    r_subtitle: "Marine hazard warning for where you are · Pinghu coast",
    r_locate: "Use my location",
    r_go: "Show",
    r_latlon: "Position (latitude, longitude)",
    r_conn_live: "Live: the colour updates by itself.",
    r_conn_connecting: "Connecting…",
    r_conn_offline: "Offline: the colour shown may be out of date; retrying.",
    r_hint: "…or tap the map, or type a position as lat, lon (e.g. 30.60, 121.07).",
    r_pick: "Choose a place",
    r_outside: "This position is outside the covered coast.",
    r_bad_input: "Type two numbers: latitude, longitude (e.g. 30.60, 121.07).",
    r_geo_denied: "Location is not available here: tap the map or type a position instead.",
    r_outlook: "Next 24 hours (storm surge outlook)",
    r_shelters: "Nearest shelters",
    r_contact: "Your community contact",
    r_map: "Map: tap to choose a place",
    r_sample_note: "This is a sample coast: warning levels, shelters and contacts are examples, not official.",
    r_updated: "updated",
    r_capacity: "places",
    r_away: "away",
    r_call: "Call",
    level_word_4: "RED warning", level_word_3: "ORANGE warning", level_word_2: "YELLOW warning",
    level_word_1: "BLUE warning", level_word_0: "No warning", "level_word_-1": "Unknown",
    meaning_4: "Level I · extremely severe (特别严重)",
    meaning_3: "Level II · severe (严重)",
    meaning_2: "Level III · fairly severe (较重)",
    meaning_1: "Level IV · minor (一般)",
    meaning_0: "No marine warning for this place now.",
    "meaning_-1": "No current data for this place. This does NOT mean it is safe.",
    todo_4: ["Move to your shelter now if your village tells you to; do not wait.", "Stay away from the seawall, the dike and the beach.", "Help elderly and disabled neighbours; follow the village working group."],
    todo_3: ["Get ready to leave: documents, medicines, water, phone charger.", "Keep off the dike and the beach; do not go to sea or to the ponds.", "Check on elderly neighbours; listen for the village's instructions."],
    todo_2: ["Stay away from the seawall and the beach at high tide.", "Secure boats, nets and pond gear; bring things in from the shore.", "Follow official updates (radio, SMS, village notices)."],
    todo_1: ["Be careful near the water, especially at high tide.", "Avoid walking on the dike; keep children away from the shore.", "Keep informed."],
    todo_0: ["Normal caution near the water."],
    "todo_-1": ["Follow official channels (radio, SMS, village notices).", "Treat the sea with caution until data is back."],
    why_surge: "The water at {station} is forecast to reach {value} m ({datum}) around {time}.",
    why_surge_over: "That is at or above the {colour} warning tide level there, {threshold} m{sample}.",
    why_surge_below: "That is {margin} m below the blue warning tide level, {next} m{sample}.",
    why_surge_now: "Predicted tide now {pred} m; the sea is running {res} m {dir} it.",
    above: "above", below: "below",
    why_waves: "Waves near {station} are {value} m high (significant wave height){over}.",
    why_wind: "Wind at {station}: {value} m/s mean, gusts {gust} m/s (Beaufort {bf}; {criteria}).",
    why_held: "No data since {time} (Beijing time): the last known level is kept until it reports again, a forecast replaces it or the duty officer lifts it.",
    why_lifted: "Warning lifted by the duty officer: {note}. No data since {time}.",
    why_forecast: "Forecast: {source}.",
    nodata_since: "No data since {time}: {list}.",
    advice_sample: "Advice: SAMPLE wording, to be replaced by the local emergency plan.",
    why_overtopping: "Waves may pour over {station}: about {value} {unit}{over}.",
    why_red_tide: "Chlorophyll-a in the water at {station}: {value} µg/L (1-hour mean){over}.",
    why_over: ", at or above the {colour} threshold {threshold} {unit}",
    why_unknown: "No data from {station}: {reason}.",
    why_none: "Nothing is above a warning level here now.",
    nodata_note: "Some measurements are missing: {list}.",
    dirs: ["N", "NE", "E", "SE", "S", "SW", "W", "NW"],
  },
  zh: {
    r_title: "我这里是什么预警？",
    r_subtitle: "您所在位置的海洋灾害预警 · 平湖海岸",
    r_locate: "使用我的位置",
    r_go: "查询",
    r_latlon: "位置（纬度, 经度）",
    r_conn_live: "实时：颜色会自动更新。",
    r_conn_connecting: "连接中…",
    r_conn_offline: "离线：显示的颜色可能已过时，正在重连。",
    r_hint: "……或点击地图，或输入“纬度, 经度”（如 30.60, 121.07）。",
    r_pick: "请选择位置",
    r_outside: "该位置不在本系统覆盖的海岸范围内。",
    r_bad_input: "请输入两个数字：纬度, 经度（如 30.60, 121.07）。",
    r_geo_denied: "无法获取定位：请点击地图或输入位置。",
    r_outlook: "未来 24 小时（风暴潮趋势）",
    r_shelters: "最近的避灾安置点",
    r_contact: "村（社区）联系人",
    r_map: "地图：点击选择位置",
    r_sample_note: "本海岸为示例：警戒潮位、安置点和联系人均为示例，非官方信息。",
    r_updated: "更新于",
    r_capacity: "人",
    r_away: "",
    r_call: "拨打",
    level_word_4: "红色预警", level_word_3: "橙色预警", level_word_2: "黄色预警",
    level_word_1: "蓝色预警", level_word_0: "无预警", "level_word_-1": "未知",
    meaning_4: "Ⅰ级 · 特别严重",
    meaning_3: "Ⅱ级 · 严重",
    meaning_2: "Ⅲ级 · 较重",
    meaning_1: "Ⅳ级 · 一般",
    meaning_0: "本地目前没有海洋灾害预警。",
    "meaning_-1": "本地暂无实时数据，这并不代表安全。",
    todo_4: ["村（社区）通知转移时，立即前往避灾安置点，不要等待。", "远离海堤、海塘和海滩。", "帮助老人和残疾邻居，听从村社应急工作组指挥。"],
    todo_3: ["做好转移准备：证件、药品、饮用水、充电器。", "不要上海堤、去海滩，不要出海或去养殖塘。", "照看年老邻居，留意村里的通知。"],
    todo_2: ["高潮时远离海堤和海滩。", "加固船只、渔网和养殖设施，收回岸边物品。", "关注官方通知（广播、短信、村务通知）。"],
    todo_1: ["靠近水边时注意安全，尤其是高潮时。", "不要在海堤上行走，看好孩子远离岸边。", "留意最新信息。"],
    todo_0: ["靠近水边时保持正常的警惕。"],
    "todo_-1": ["关注官方渠道（广播、短信、村务通知）。", "数据恢复前，请对大海保持警惕。"],
    why_surge: "{station}的潮位预计在 {time} 前后达到 {value} 米（{datum}）。",
    why_surge_over: "已达到或超过当地{colour}警戒潮位 {threshold} 米{sample}。",
    why_surge_below: "比蓝色警戒潮位 {next} 米{sample}低 {margin} 米。",
    why_surge_now: "当前天文潮 {pred} 米，实际水位{dir} {res} 米。",
    above: "偏高", below: "偏低",
    why_waves: "{station}附近有效波高 {value} 米{over}。",
    why_wind: "{station}平均风速 {value} 米/秒，阵风 {gust} 米/秒（{bf} 级；{criteria}）。",
    why_held: "自 {time}（北京时间）起无数据：保持最后已知等级，直到恢复报数、有预报替代或值班员解除。",
    why_lifted: "值班员已解除预警：{note}。自 {time} 起无数据。",
    why_forecast: "预报来源：{source}。",
    nodata_since: "自 {time} 起无数据：{list}。",
    advice_sample: "建议：示例文字，应以当地应急预案为准。",
    why_overtopping: "{station}可能越浪：约 {value} {unit}{over}。",
    why_red_tide: "{station}水体叶绿素a为 {value} 微克/升（1 小时平均）{over}。",
    why_over: "，已达到或超过{colour}阈值 {threshold} {unit}",
    why_unknown: "{station}无数据：{reason}。",
    why_none: "本地各项指标均低于预警值。",
    nodata_note: "部分测量缺失：{list}。",
    dirs: ["北", "东北", "东", "东南", "南", "西南", "西", "西北"],
  },
});

const state = { here: null, answer: null, zones: [], stations: {}, segments: {}, proj: null };

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, k) => (values[k] ?? "–"));
}
function placeName(id) {
  const s = state.stations[id] || state.segments[id];
  return s ? MW.name(s) : id;
}

function why(exp) {
  const base = whyValue(exp);
  if (!exp) return base;
  const extra = [];
  if (exp.forecast_method === "external" && exp.forecast_source) extra.push(fill(t("why_forecast"), { source: exp.forecast_source }));
  if (exp.lifted) extra.push(fill(t("why_lifted"), { note: exp.lifted.note, time: exp.no_data_since?.local }));
  else if (exp.held && exp.no_data_since) extra.push(fill(t("why_held"), { time: exp.no_data_since.local }));
  return [base, ...extra].join(" ");
}

function whyValue(exp) {
  if (!exp) return t("why_none");
  const station = placeName(exp.station);
  const sample = exp.status === "SAMPLE" ? ` (${t("sample")})` : "";
  const colour = exp.colour ? t(`col_${exp.colour}`) : "";
  const n = (v) => MW.fmtNum(v);
  if (exp.level === -1 || exp.colour === "unknown") return fill(t("why_unknown"), { station, reason: exp.reason || "" });
  const over = exp.threshold !== null && exp.threshold !== undefined ? fill(t("why_over"), { colour, threshold: n(exp.threshold), unit: exp.unit || "" }) + sample : "";
  switch (exp.hazard) {
    case "storm_surge": {
      const parts = [fill(t("why_surge"), { station, value: n(exp.value), datum: exp.datum === "NVD1985" ? (MW.lang === "zh" ? "85 高程" : "1985 datum") : exp.datum || "", time: MW.fmtTime(exp.peak_time_s) })];
      parts.push(exp.threshold !== null && exp.threshold !== undefined
        ? fill(t("why_surge_over"), { colour, threshold: n(exp.threshold), sample })
        : fill(t("why_surge_below"), { margin: n(exp.margin), next: n(exp.next_threshold), sample }));
      if (exp.predicted_now_m !== undefined && exp.residual_m !== undefined) {
        parts.push(fill(t("why_surge_now"), { pred: n(exp.predicted_now_m), res: n(Math.abs(exp.residual_m)), dir: t(exp.residual_m >= 0 ? "above" : "below") }));
      }
      return parts.join(" ");
    }
    case "waves": return fill(t("why_waves"), { station, value: n(exp.value), over });
    case "wind": return fill(t("why_wind"), { station, value: n(exp.value), gust: n(exp.gust), bf: exp.beaufort ?? "–", criteria: exp.criteria || "" });
    case "overtopping": return fill(t("why_overtopping"), { station, value: n(exp.value), unit: exp.unit || "", over });
    case "red_tide": return fill(t("why_red_tide"), { station, value: n(exp.value), over });
    default: return `${exp.hazard}: ${n(exp.value)} ${exp.unit || ""}${over}`;
  }
}

function compass(bearing) {
  const dirs = t("dirs");
  return dirs[Math.round(bearing / 45) % 8];
}
function distance(m) {
  return m < 1000 ? `${Math.round(m / 10) * 10} m` : `${(m / 1000).toFixed(1)} km`;
}

function render() {
  const a = state.answer;
  const card = $("card");
  if (!a) return;
  const colour = a.colour || "unknown";
  card.className = `card ${colour}`;
  card.dataset.colour = colour;
  card.dataset.level = String(a.level);
  $("place").textContent = MW.name(a.zone);
  $("level").textContent = t(`level_word_${a.level}`);
  $("meaning").textContent = t(`meaning_${a.level}`);
  const advice = a.advice?.[MW.lang === "zh" ? "zh" : "en"];
  $("todo").replaceChildren(...(advice?.length ? advice : t(`todo_${a.level}`)).map((line) => el("li", {}, line)));
  $("todo").dataset.hazard = a.advice?.hazard || "";
  $("chain").replaceChildren(...a.chain.slice(1).map((z) => el("span", {}, `${MW.name(z)}: ${MW.levelWord(z.level)}`)));

  $("why-box").hidden = false;
  $("why").textContent = why(a.explanation);
  const since = (a.no_data_since || []).map((m) => fill(t("nodata_since"), { time: m.local, list: `${placeName(m.station)} · ${t(`hazard_${m.hazard}`)} (${MW.levelWord(m.level)})` }));
  const missing = a.no_data?.length ? [fill(t("nodata_note"), { list: a.no_data.join("; ") })] : [];
  $("nodata").textContent = [...since, ...missing, a.advice?.status === "SAMPLE" ? t("advice_sample") : ""].filter(Boolean).join(" ");
  $("nodata").dataset.held = since.length ? "1" : "";

  $("outlook-box").hidden = !a.outlook?.length;
  const hours = a.outlook || [];
  $("outlook").replaceChildren(...hours.slice(0, 24).map((h) => el("div", { class: `bg-${MW.colourOf(h.level)}`, title: `${MW.fmtTime(h.ts)} ${MW.levelWord(h.level)}`, "data-level": h.level })));
  $("outlook-hours").replaceChildren(...hours.filter((h) => h.hour % 3 === 0).slice(0, 8).map((h) => el("span", {}, MW.fmtTime(h.ts))));

  $("shelter-box").hidden = !a.shelters?.length;
  $("shelters").replaceChildren(...(a.shelters || []).map((s) => el("li", { "data-testid": "shelter" },
    el("div", { class: "compass", title: `${s.bearing_deg}°` },
      svg("svg", { viewBox: "-15 -15 30 30" }, svg("path", { d: "M0,-12 L7,9 L0,4 L-7,9 Z", fill: "#0e2a44", transform: `rotate(${s.bearing_deg})` })),
      el("small", {}, compass(s.bearing_deg))),
    el("div", {},
      el("div", { class: "shelter-name" }, MW.name(s)),
      el("div", { class: "shelter-meta" }, el("span", { class: "dist" }, distance(s.distance_m)), ` ${compass(s.bearing_deg)} ${t("r_away")} · ${s.capacity} ${t("r_capacity")}`),
      el("div", { class: "shelter-meta" }, s.address || "")))));

  const c = a.contact;
  $("contact-box").hidden = !c;
  if (c) {
    $("contact").replaceChildren(el("div", { class: "contact-name" }, c.name), el("div", { class: "shelter-meta" }, c.role || ""),
      c.phone ? el("a", { class: "phone", href: `tel:${c.phone.replace(/[^0-9+]/g, "")}` }, `${t("r_call")} ${c.phone}`) : null);
  }
  // the service's clock (scenario time in the demo), like every other time on the page
  $("updated").textContent = `· ${t("r_updated")} ${MW.fmtTime(a.evaluated_s, true)}`;
  drawMarkers();
}

async function lookup(lat, lon) {
  state.here = [lat, lon];
  $("where-hint").classList.remove("error");
  try {
    state.answer = await MW.getJSON(`/api/v1/risk?lat=${lat.toFixed(5)}&lon=${lon.toFixed(5)}`);
    $("where-hint").textContent = `${lat.toFixed(4)}, ${lon.toFixed(4)}`;
    render();
  } catch (error) {
    state.answer = null;
    $("where-hint").textContent = error.status === 404 ? t("r_outside") : error.message;
    $("where-hint").classList.add("error");
    const card = $("card");
    card.className = "card unknown";
    card.dataset.colour = "";
    $("level").textContent = t("r_pick");
    $("place").textContent = ""; $("meaning").textContent = ""; $("todo").replaceChildren(); $("chain").replaceChildren();
    drawMarkers();
  }
}

function locate() {
  if (!navigator.geolocation) { $("where-hint").textContent = t("r_geo_denied"); return; }
  navigator.geolocation.getCurrentPosition(
    (pos) => lookup(pos.coords.latitude, pos.coords.longitude),
    () => { $("where-hint").textContent = t("r_geo_denied"); $("where-hint").classList.add("error"); },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
}

// ---- minimap --------------------------------------------------------------------------------------
function drawMap() {
  const root = $("map");
  const W = 360; const H = 240;
  const rings = state.zones.map((f) => f.geometry.coordinates[0]);
  state.proj = MW.projection(MW.bboxOf(rings), W, H, 10);
  root.replaceChildren();
  for (const f of state.zones.filter((z) => z.properties.tier === "village")) {
    root.append(svg("path", { class: "z", d: MW.pathOf(f.geometry.coordinates[0], state.proj.project), "data-zone": f.properties.id }));
  }
  root.append(svg("g", { id: "markers" }));
  paintMap();
  root.addEventListener("click", (event) => {
    const pt = root.createSVGPoint();
    pt.x = event.clientX; pt.y = event.clientY;
    const local = pt.matrixTransform(root.getScreenCTM().inverse());
    const [lon, lat] = state.proj.invert([local.x, local.y]);
    $("latlon").value = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
    lookup(lat, lon);
  });
}
function paintMap(places = {}) {
  for (const node of $("map").querySelectorAll("[data-zone]")) {
    const colour = places[node.dataset.zone]?.colour || node.dataset.colour || "unknown";
    node.dataset.colour = colour;
    node.setAttribute("fill", colour === "none" ? "#9fceb2" : MW.COLOURS[colour]);
    node.setAttribute("fill-opacity", colour === "none" ? "0.8" : "0.75");
  }
}
function drawMarkers() {
  const g = $("markers");
  if (!g || !state.proj) return;
  g.replaceChildren();
  for (const s of state.answer?.shelters || []) {
    const [x, y] = state.proj.project([s.lon, s.lat]);
    g.append(svg("rect", { class: "shelter", x: x - 4, y: y - 4, width: 8, height: 8 }));
  }
  if (state.here) {
    const [x, y] = state.proj.project([state.here[1], state.here[0]]);
    g.append(svg("circle", { class: "here", cx: x, cy: y, r: 6 }));
  }
}

// ---- live -------------------------------------------------------------------------------------------
let refreshTimer = null;
function onRisk(message) {
  if (message.type === "snapshot") {
    paintMap(Object.fromEntries(message.places.map((p) => [p.id, p])));
    return;
  }
  if (message.type !== "zone") return;
  paintMap({ [message.id]: message });
  const ids = (state.answer?.chain || []).map((z) => z.id);
  if (state.here && ids.includes(message.id)) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => lookup(...state.here), 200);
  }
}

// The connection state, said (aria-live) and shown: a resident must know when the colour is stale.
let connState = "connecting";
function setConn(s) {
  connState = s;
  const c = $("conn");
  c.dataset.state = s;
  c.textContent = t(`r_conn_${s === "live" ? "live" : s === "connecting" ? "connecting" : "offline"}`);
}

async function start() {
  MW.applyStatic();
  $("latlon").placeholder = "30.60, 121.07";
  $("lang-btn").addEventListener("click", () => MW.setLang(MW.lang === "zh" ? "en" : "zh"));
  MW.onLang(() => { render(); setConn(connState); });
  $("locate").addEventListener("click", locate);
  $("typed").addEventListener("submit", (event) => {
    event.preventDefault();
    const nums = $("latlon").value.split(/[\s,，;]+/).filter(Boolean).map(Number);
    if (nums.length !== 2 || nums.some((v) => !Number.isFinite(v))) {
      $("where-hint").textContent = t("r_bad_input"); $("where-hint").classList.add("error"); return;
    }
    lookup(nums[0], nums[1]);
  });
  const [zones, stations, segments] = await Promise.all([
    MW.getJSON("/api/v1/zones"), MW.getJSON("/api/v1/stations"), MW.getJSON("/api/v1/segments"),
  ]);
  state.zones = zones.features;
  state.stations = Object.fromEntries(stations.map((s) => [s.id, s]));
  state.segments = Object.fromEntries(segments.features.map((f) => [f.properties.id, f.properties]));
  drawMap();
  paintMap(Object.fromEntries(state.zones.map((f) => [f.properties.id, f.properties])));
  MW.socket("/ws/risk", { onMessage: onRisk, onState: setConn });
  const permission = await navigator.permissions?.query({ name: "geolocation" }).catch(() => null);
  if (permission?.state === "granted") locate();
  document.body.dataset.ready = "1";
}
start().catch((error) => { $("where-hint").textContent = `⚠ ${error.message}`; });
