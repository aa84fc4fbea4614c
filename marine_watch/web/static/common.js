// Shared by the dashboard and the resident page: colours, bilingual labels, projection, websockets.
// Plain ES2020 modules, no libraries and no build step: the pages must work on a machine without
// internet. Import what you use: `import * as MW from "./common.js"` or named imports.
export const COLOURS = {
  unknown: "#7b8494",
  none: "#3f7d5a",
  blue: "#1f6fe0",
  yellow: "#f2c200",
  orange: "#f27a0c",
  red: "#d92b2b",
};
const COLOUR_OF_LEVEL = { "-1": "unknown", 0: "none", 1: "blue", 2: "yellow", 3: "orange", 4: "red" };
export const ORDER = ["red", "orange", "yellow", "blue", "none", "unknown"];

const TEXT = {
  en: {
    title: "Marine hazard watch — Pinghu coast",
    subtitle: "Hangzhou Bay north shore · duty officer",
    sample_coast: "SAMPLE coast: positions, warning levels and dikes are samples, not official values",
    sample: "SAMPLE",
    lang: "中文",
    live: "live",
    connecting: "connecting…",
    offline: "offline — retrying",
    scenario_time: "service time",
    tiers: "Warning levels by tier",
    tier_city: "City",
    tier_town: "Town / street",
    tier_village: "Village / community",
    col_red: "Red",
    col_orange: "Orange",
    col_yellow: "Yellow",
    col_blue: "Blue",
    col_none: "None",
    col_unknown: "No data",
    alerts: "Alerts",
    alerts_signin: "Enter a duty-officer key to see and acknowledge alerts.",
    alerts_unavailable: "Alerts unavailable",
    alerts_none: "No open alerts.",
    ack: "Acknowledge",
    acked_by: "acknowledged by",
    escalated_to: "not acknowledged in time: escalated to",
    not_acked: "not acknowledged",
    new_alert: "New alert",
    key_label: "Duty-officer API key",
    map_label: "Coast map: villages, dikes and stations (Tab to reach the stations)",
    city_now: "City level",
    changes: "Colour changes",
    key: "Key",
    key_prompt: "Duty-officer API key (the demo prints demo-duty-officer):",
    sign_out: "Sign out",
    signed_in: "signed in",
    station: "Station",
    stations: "Stations",
    pick_station: "Click a station on the map to see its last 24 hours.",
    status_ok: "reporting",
    status_stale: "STALE",
    status_no_data: "NO DATA",
    qc_flag: "QC flag",
    observed: "observed",
    predicted: "predicted tide",
    residual: "surge residual",
    warning_levels: "warning tide levels",
    cameras: "Camera feeds",
    no_cameras: "no camera configured",
    last_values: "Latest readings",
    hazards: "Hazards",
    legend: "Legend",
    legend_dike: "dike segment",
    legend_station: "station",
    legend_stale: "stale / no data",
    legend_qc: "QC-flagged",
    legend_sample: "levels: SAMPLE",
    bay: "Hangzhou Bay",
    why: "Why",
    level_0: "no warning",
    level_1: "Blue",
    level_2: "Yellow",
    level_3: "Orange",
    level_4: "Red",
    "level_-1": "unknown",
    hazard_storm_surge: "storm surge",
    hazard_waves: "waves",
    hazard_wind: "wind",
    hazard_red_tide: "red tide",
    hazard_overtopping: "overtopping",
    kind_tide_level: "tide level",
    kind_wave_height: "wave height",
    kind_wave_period: "wave period",
    kind_wave_direction: "wave direction",
    kind_wind_speed: "wind speed",
    kind_wind_direction: "wind direction",
    kind_wind_gust: "wind gust",
    kind_air_pressure: "air pressure",
    kind_water_temp: "water temperature",
    kind_chlorophyll_a: "chlorophyll-a",
    kind_dissolved_oxygen: "dissolved oxygen",
    kind_ph: "pH",
    kind_salinity: "salinity",
    no_readings: "No readings in the last 24 h.",
    since: "since",
    ago: "ago",
    now: "now",
  },
  zh: {
    title: "海洋灾害监测 — 平湖海岸",
    subtitle: "杭州湾北岸 · 值班员",
    sample_coast: "示例海岸：站位、警戒潮位和海堤均为示例值，非官方数据",
    sample: "示例",
    lang: "English",
    live: "实时",
    connecting: "连接中…",
    offline: "离线 — 重连中",
    scenario_time: "服务时间",
    tiers: "分级预警统计",
    tier_city: "市",
    tier_town: "镇 / 街道",
    tier_village: "村 / 社区",
    col_red: "红",
    col_orange: "橙",
    col_yellow: "黄",
    col_blue: "蓝",
    col_none: "无",
    col_unknown: "无数据",
    alerts: "警报",
    alerts_signin: "输入值班员密钥以查看和确认警报。",
    alerts_unavailable: "警报暂不可用",
    alerts_none: "当前无未结警报。",
    ack: "确认",
    acked_by: "已确认：",
    escalated_to: "未及时确认，已升级至：",
    not_acked: "未确认",
    new_alert: "新警报",
    key_label: "值班员 API 密钥",
    map_label: "海岸地图：村（社区）、海堤和站点（按 Tab 键选择站点）",
    city_now: "全市等级",
    changes: "等级变化",
    key: "密钥",
    key_prompt: "值班员 API 密钥（演示模式为 demo-duty-officer）：",
    sign_out: "退出",
    signed_in: "已登录",
    station: "站点",
    stations: "站点",
    pick_station: "点击地图上的站点，查看最近 24 小时数据。",
    status_ok: "正常",
    status_stale: "数据过期",
    status_no_data: "无数据",
    qc_flag: "质控标记",
    observed: "实测",
    predicted: "天文潮预报",
    residual: "增水",
    warning_levels: "警戒潮位",
    cameras: "视频监控",
    no_cameras: "未配置摄像头",
    last_values: "最新读数",
    hazards: "灾种",
    legend: "图例",
    legend_dike: "海堤段",
    legend_station: "站点",
    legend_stale: "过期 / 无数据",
    legend_qc: "质控标记",
    legend_sample: "阈值为示例值",
    bay: "杭州湾",
    why: "原因",
    level_0: "无预警",
    level_1: "蓝色",
    level_2: "黄色",
    level_3: "橙色",
    level_4: "红色",
    "level_-1": "未知",
    hazard_storm_surge: "风暴潮",
    hazard_waves: "海浪",
    hazard_wind: "大风",
    hazard_red_tide: "赤潮",
    hazard_overtopping: "漫堤",
    kind_tide_level: "潮位",
    kind_wave_height: "有效波高",
    kind_wave_period: "波周期",
    kind_wave_direction: "波向",
    kind_wind_speed: "风速",
    kind_wind_direction: "风向",
    kind_wind_gust: "阵风",
    kind_air_pressure: "气压",
    kind_water_temp: "水温",
    kind_chlorophyll_a: "叶绿素a",
    kind_dissolved_oxygen: "溶解氧",
    kind_ph: "pH",
    kind_salinity: "盐度",
    no_readings: "最近 24 小时无读数。",
    since: "自",
    ago: "前",
    now: "现在",
  },
};
export const UNITS = {
  tide_level: "m", wave_height: "m", wave_period: "s", wave_direction: "°", wind_speed: "m/s",
  wind_direction: "°", wind_gust: "m/s", air_pressure: "hPa", water_temp: "°C",
  chlorophyll_a: "µg/L", dissolved_oxygen: "mg/L", ph: "", salinity: "PSU",
};

export let lang = localStorage.getItem("mw.lang") || ((navigator.language || "").startsWith("zh") ? "zh" : "en");
const langListeners = [];

export function t(key) {
  const table = TEXT[lang] || TEXT.en;
  return key in table ? table[key] : (TEXT.en[key] ?? key);
}
export function extend(more) {
  for (const code of Object.keys(more)) Object.assign(TEXT[code], more[code]);
}
export function setLang(code) {
  lang = code;
  localStorage.setItem("mw.lang", code);
  document.documentElement.lang = code === "zh" ? "zh-CN" : "en";
  applyStatic();
  langListeners.forEach((fn) => fn(code));
}
export function applyStatic(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nLabel)); });
}
export function onLang(fn) { langListeners.push(fn); }
export function name(obj) { return obj ? (lang === "zh" && obj.name_zh ? obj.name_zh : obj.name) : ""; }
export function colourOf(level) { return COLOUR_OF_LEVEL[level] ?? "unknown"; }
export function levelWord(level) { return t(`level_${level}`); }

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}
const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

// Equirectangular projection scaled by cos(lat0): good to a few metres over 27 km.
export function projection(bbox, width, height, pad = 24) {
  const [minLon, minLat, maxLon, maxLat] = bbox;
  const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  const spanX = (maxLon - minLon) * k;
  const spanY = maxLat - minLat;
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const offX = (width - spanX * scale) / 2;
  const offY = (height - spanY * scale) / 2;
  const project = ([lon, lat]) => [offX + (lon - minLon) * k * scale, offY + (maxLat - lat) * scale];
  const invert = ([x, y]) => [minLon + (x - offX) / (k * scale), maxLat - (y - offY) / scale];
  return { project, invert, scale, metresPerUnit: 111320 / scale };
}
export function bboxOf(coordLists) {
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const list of coordLists) for (const [x, y] of list) {
    b = [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)];
  }
  return b;
}
export function pathOf(coords, project, close = true) {
  return coords.map((c, i) => `${i ? "L" : "M"}${project(c).map((v) => v.toFixed(1)).join(",")}`).join("") + (close ? "Z" : "");
}

export async function getJSON(url, key) {
  const headers = key ? { "X-API-Key": key } : {};
  const response = await fetch(url, { headers });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).error || detail; } catch (_) { /* not JSON */ }
    const error = new Error(`${response.status}: ${detail}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

// A websocket that reconnects with capped, jittered backoff and reports its state. A key
// (`auth`) goes in the first message of each connection, never in the URL.
export function socket(path, { onMessage, onState, auth }) {
  let ws = null;
  let delay = 500;
  let stopped = false;
  function open() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    onState?.("connecting");
    ws = new WebSocket(url);
    ws.onopen = () => {
      if (auth) ws.send(JSON.stringify({ type: "auth", key: auth }));
      delay = 500;
      onState?.("live");
    };
    ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (_) { return; }
      onMessage(message);
    };
    ws.onclose = (event) => {
      if (stopped) return;
      onState?.("offline", event);
      if (event.code === 1008) return; // refused (bad key): do not hammer the server
      setTimeout(open, delay + Math.random() * delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  open();
  return { close() { stopped = true; ws?.close(); } };
}

export function fmtTime(ts, withDate = false) {
  if (ts === null || ts === undefined) return "–";
  const d = new Date(ts * 1000);
  const opts = { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai" };  // the coast's time, +08:00
  if (withDate) Object.assign(opts, { month: "2-digit", day: "2-digit" });
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", opts);
}
export function fmtNum(v, digits = 2) {
  return v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toFixed(digits);
}

// A non-button element that acts as one: in the tab order, named, and activated by a click, Enter
// or Space (as a native button is).
export function activatable(node, label, fn) {
  node.setAttribute("tabindex", "0");
  node.setAttribute("role", "button");
  node.setAttribute("aria-label", label);
  node.addEventListener("click", fn);
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); fn(event); }
  });
  return node;
}

// Say something in an aria-live region (screen readers read each change aloud). The same words
// twice in a row are still said: the region is emptied first.
export function announce(region, text) {
  if (!region) return;
  if (region.textContent !== text) { region.textContent = text; return; }
  region.textContent = "";
  requestAnimationFrame(() => { region.textContent = text; });
}
