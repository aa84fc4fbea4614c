// The alert panel: open alerts (GET /api/v1/alerts?active=true), live over /ws/alerts, acknowledge.
// Alerts need a duty-officer (or emergency-team) key; without one, or if the API is missing, the
// panel says so and the rest of the dashboard keeps working.
"use strict";

const AlertsPanel = (() => {
  const { el, t } = MW;
  let opts = null;
  let items = [];
  let acks = {};
  let state = "signin";
  let problem = "";
  let ws = null;
  let reloadTimer = null;

  function init(options) {
    opts = options;
    MW.onLang(render);
    connect();
  }

  function connect() {
    ws?.close();
    ws = null;
    const key = opts.getKey();
    if (!key) { state = "signin"; render(); return; }
    reload();
    ws = MW.socket("/ws/alerts", {
      auth: key,
      onMessage(message) {
        if (message.type === "alert") { scheduleReload(message.identifier); }
        if (message.type === "ack") { addAck(message.identifier, message.by, message.ts); render(); }
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

  async function reload(fresh) {
    const key = opts.getKey();
    try {
      const body = await MW.getJSON("/api/v1/alerts?active=true&limit=100", key);
      items = body.items.sort((a, b) => b.level - a.level || b.sent_s - a.sent_s);
      const details = await Promise.all(items.slice(0, 40).map((a) => MW.getJSON(`/api/v1/alerts/${encodeURIComponent(a.identifier)}`, key).catch(() => null)));
      acks = {};
      for (const d of details) if (d) acks[d.identifier] = d.acknowledgements || [];
      state = "ok";
    } catch (error) {
      state = error.status === 401 || error.status === 403 ? "refused" : "unavailable";
      problem = error.message;
    }
    render(fresh);
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
    } catch (error) {
      button.disabled = false;
      button.title = error.message;
      button.textContent = "⚠ " + t("ack");
    }
  }

  function render(fresh) {
    const box = opts.container;
    box.replaceChildren();
    opts.countEl.textContent = state === "ok" ? String(items.length) : "";
    if (state === "signin") {
      box.append(el("div", { class: "alerts-msg", "data-testid": "alerts-signin" }, t("alerts_signin"), " ",
        el("button", { onclick: opts.askKey }, t("key"))));
      return;
    }
    if (state !== "ok") {
      box.append(el("div", { class: "alerts-msg", "data-testid": "alerts-unavailable" }, `${t("alerts_unavailable")} (${problem})`));
      return;
    }
    if (!items.length) { box.append(el("div", { class: "alerts-msg" }, t("alerts_none"))); return; }
    for (const a of items) {
      const done = acks[a.identifier] || [];
      const colour = a.colour && a.colour in MW.COLOURS ? a.colour : MW.colourOf(a.level);
      const subject = opts.placeName(a.subject_id);
      const row = el("div", { class: `alert${a.identifier === fresh ? " new" : ""}`, "data-alert": a.identifier, "data-testid": "alert" },
        el("div", { class: `bar bg-${colour}` }),
        el("div", {},
          el("div", { class: "head" }, el("span", { class: `chip bg-${colour}` }, MW.levelWord(a.level)), " ", subject),
          el("div", { class: "meta" }, `${a.msg_type} · ${a.tier || a.subject} · ${MW.fmtTime(a.sent_s, true)}`),
          el("div", { class: "meta" }, a.headline)),
        done.length
          ? el("div", { class: "acked", "data-testid": "acked" }, `✓ ${t("acked_by")} ${done.map((d) => d.actor).join(", ")}`)
          : el("button", { class: "primary", "data-testid": "ack", onclick: (e) => acknowledge(a.identifier, e.currentTarget) }, t("ack")));
      box.append(row);
    }
  }

  return { init, connect };
})();
