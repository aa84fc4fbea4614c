// The alert panel: open alerts with their acknowledgements (GET /api/v1/alerts?active=true&with=acks), live over /ws/alerts, acknowledge.
// Alerts need a duty-officer (or emergency-team) key; without one, or if the API is missing, the
// panel says so and the rest of the dashboard keeps working.
import * as MW from "./common.js";

const { el, t } = MW;
let opts = null;
let items = [];
let acks = {};
let state = "signin";
let problem = "";
let ws = null;
let reloadTimer = null;

export function init(options) {
  opts = options;
  MW.onLang(() => render());
  connect();
}

export function connect() {
  ws?.close();
  ws = null;
  const key = opts.getKey();
  if (!key) { state = "signin"; render(); return; }
  reload();
  ws = MW.socket("/ws/alerts", {
    auth: key,
    onMessage(message) {
      if (message.type === "alert") { scheduleReload(message.identifier); }
      if (message.type === "escalation") { scheduleReload(message.identifier); }
      if (message.type === "ack") {
        addAck(message.identifier, message.by, message.ts);
        render();
        MW.announce(opts.liveEl, `${t("acked_by")} ${message.by}`);
      }
    },
    onState(s, event) {
      if (s === "offline" && event?.code === 1008) { state = "refused"; problem = event.reason; render(); }
    },
  });
}

function scheduleReload(fresh) {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => reload(fresh), 150);
}

// One request: the open alerts with their acknowledgements (GET /api/v1/alerts?with=acks).
async function reload(fresh) {
  const key = opts.getKey();
  try {
    const body = await MW.getJSON("/api/v1/alerts?active=true&limit=100&with=acks", key);
    items = body.items.sort((a, b) => b.level - a.level || b.sent_s - a.sent_s);
    acks = Object.fromEntries(items.map((a) => [a.identifier, a.acknowledgements || []]));
    state = "ok";
  } catch (error) {
    state = error.status === 401 || error.status === 403 ? "refused" : "unavailable";
    problem = error.message;
  }
  render(fresh);
  if (fresh) {
    const a = items.find((x) => x.identifier === fresh);
    if (a) MW.announce(opts.liveEl, `${t("new_alert")}: ${MW.levelWord(a.level)} · ${opts.placeName(a.subject_id)} · ${a.headline}`);
  }
}

function addAck(identifier, actor, ts) {
  const list = (acks[identifier] ||= []);
  if (!list.some((a) => a.actor === actor)) list.push({ actor, ts_s: ts });
}

async function acknowledge(identifier, button) {
  button.disabled = true;
  try {
    const response = await fetch(`/api/v1/alerts/${encodeURIComponent(identifier)}/ack`, {
      method: "POST",
      headers: { "X-API-Key": opts.getKey(), "Content-Type": "application/json" },
      body: JSON.stringify({ note: "" }),
    });
    if (!response.ok) throw new Error(`${response.status}: ${(await response.json()).error}`);
    const ack = await response.json();
    addAck(identifier, ack.by, ack.ts);
    render();
    MW.announce(opts.liveEl, `${t("acked_by")} ${ack.by}`);
    opts.container.querySelector(`[data-alert="${CSS.escape(identifier)}"]`)?.focus();
  } catch (error) {
    button.disabled = false;
    button.title = error.message;
    button.textContent = "⚠ " + t("ack");
  }
}

function render(fresh) {
  const box = opts.container;
  // a re-render must not throw the keyboard user out of the list: focus goes back where it was
  const focused = box.contains(document.activeElement) ? document.activeElement : null;
  const focusAlert = focused?.closest("[data-alert]")?.dataset.alert;
  const onButton = focused?.tagName === "BUTTON";
  box.replaceChildren();
  opts.countEl.textContent = state === "ok" ? String(items.length) : "";
  if (state === "signin") {
    box.append(el("div", { class: "alerts-msg", "data-testid": "alerts-signin" }, t("alerts_signin"), " ",
      el("button", { type: "button", onclick: opts.askKey }, t("key"))));
    return;
  }
  if (state !== "ok") {
    box.append(el("div", { class: "alerts-msg", "data-testid": "alerts-unavailable" }, `${t("alerts_unavailable")} (${problem})`));
    return;
  }
  if (!items.length) { box.append(el("div", { class: "alerts-msg" }, t("alerts_none"))); return; }
  const list = el("ul", { class: "alert-list", "aria-label": t("alerts") });
  for (const a of items) {
    const done = acks[a.identifier] || [];
    const colour = a.colour && a.colour in MW.COLOURS ? a.colour : MW.colourOf(a.level);
    const subject = opts.placeName(a.subject_id);
    const when = MW.fmtTime(a.sent_s, true);
    const escalated = a.escalations?.length ? ` · ${t("escalated_to")} ${a.escalations.at(-1).to_name}` : "";
    const status = (done.length ? `${t("acked_by")} ${done.map((d) => d.actor).join(", ")}` : t("not_acked")) + escalated;
    // each alert is a stop in the tab order (it reads out whole); its Acknowledge button is the next
    const row = el("li", {
      class: `alert${a.identifier === fresh ? " new" : ""}`, "data-alert": a.identifier, "data-testid": "alert",
      tabindex: "0", "aria-label": `${MW.levelWord(a.level)} · ${subject} · ${a.msg_type} · ${when} · ${a.headline} · ${status}`,
    },
      el("div", { class: `bar bg-${colour}` }),
      el("div", {},
        el("div", { class: "head" }, el("span", { class: `chip bg-${colour}` }, MW.levelWord(a.level)), " ", subject),
        el("div", { class: "meta" }, `${a.msg_type} · ${a.tier || a.subject} · ${when}`),
        el("div", { class: "meta" }, a.headline),
        ...(a.escalations?.length
          ? [el("div", { class: "meta escalated", "data-testid": "escalated", "data-to": a.escalations.at(-1).to },
            `⇡ ${t("escalated_to")} ${a.escalations.map((e) => `${e.to_name} (${MW.fmtTime(e.ts_s, true)})`).join(" → ")}`)]
          : [])),
      done.length
        ? el("div", { class: "acked", "data-testid": "acked" }, `✓ ${t("acked_by")} ${done.map((d) => d.actor).join(", ")}`)
        : el("button", { type: "button", class: "primary", "data-testid": "ack", "aria-label": `${t("ack")}: ${subject}`, onclick: (e) => acknowledge(a.identifier, e.currentTarget) }, t("ack")));
    list.append(row);
  }
  box.append(list);
  if (focusAlert) {
    const row = box.querySelector(`[data-alert="${CSS.escape(focusAlert)}"]`);
    (onButton ? row?.querySelector("button") : null)?.focus() ?? row?.focus();
  }
}
