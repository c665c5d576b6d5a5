// The clerk's counter page: call, recall, serve, finish, transfer, hold, break, walk-in.
// Shortcuts: Space = call next, R = recall, S = start, N = no-show, F = finish.
"use strict";

(function () {
  const { el, button, send, t, named, language } = window.dostq;
  // Every word from the staff catalog (server/web/text/<lang>.json), in the clerk's language.
  const OUTCOMES = ["done", "documents_missing", "referred"];
  const root = document.getElementById("counter");
  const messageBar = document.getElementById("message");
  const me = Number(root.dataset.userId);
  let catalog = null;
  let services = {}; // code -> names
  let categories = {};
  let counter = null; // GET /counters/{id}
  let waiting = [];
  let form = null; // "finish" | "transfer" | "specific" | "walkin" | "break"
  const BREAK_MINUTES = [10, 15, 30, 45, 60]; // server/queue/desk.py offers the same

  function say(text, good) {
    messageBar.textContent = text;
    messageBar.className = good ? "message good" : "message";
    messageBar.hidden = !text;
  }

  async function api(method, path, body, headers) {
    const response = await send(method, `/api/v1${path}`, body || undefined, headers);
    if (response.status === 401) { location.href = `/login?next=/counter/`; return null; }
    const data = response.status === 204 ? {} : await response.json();
    if (!response.ok) {
      say(window.dostq.refusal(data.error, response.status));
      return null;
    }
    // Only a change that worked clears the bar: a background reload (another counter's
    // socket event) must not wipe a refusal the clerk has not read yet.
    if (method !== "GET") say("");
    return data;
  }

  let counters = []; // GET /counters: every counter, for the choice and for transfers
  async function load() {
    const list = await api("GET", "/counters");
    counters = list || counters;
    const mine = list && list.find((c) => c.clerk_user_id === me);
    counter = mine ? await api("GET", `/counters/${mine.id}`) : null;
    render(list);
  }
  async function act(path, body, headers, method) {
    const result = await api(method || "POST", `/counters/${counter.id}${path}`, body, headers);
    form = null;
    if (result) await load();
    return result;
  }

  function minutes(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  // ---- screens ------------------------------------------------------------------------
  function render(list) {
    if (!counter) return renderChoice(list || []);
    const ticket = counter.ticket;
    const header = el("header", {},
      el("h1", { text: `${counter.name} · ${root.dataset.user}` }),
      counter.status === "break" ? el("span", { class: "badge", text: `${t("counter.on_break")}: ${counter.reason || ""}`
        + (counter.break_until ? ` · ${t("counter.back_at", { time: window.dostq.clock(counter.break_until) })}` : "") }) : null,
      counter.status === "break" ? button(t("counter.break_end"), () => act("/status", { status: "open" }, null, "PUT"), "secondary")
        : button(t("counter.break_start"), () => { form = "break"; render(); }, "secondary"),
      button(t("counter.sign_out"), async () => { if (await api("DELETE", `/counters/${counter.id}/session`)) load(); }, "secondary"));
    const visit = el("section", { class: "visit" }, ticket ? visitPanel(ticket) : idlePanel());
    const side = el("aside", {}, queuePanel(), dayPanel());
    root.replaceChildren(header, el("div", { class: "layout" }, visit, side));
    tick();
  }

  // Each counter with its hall, who holds it and what it serves, by area.
  function renderChoice(list) {
    const serves = (area) => el("details", {},
      el("summary", { text: `${area.letter} · ${area.name} (${area.services.length})` }),
      el("ul", {}, ...area.services.map((code) => el("li", { text: named(services[code]) || code }))));
    const choice = (c) => el("div", { class: "choice", "data-counter": c.id },
      el("strong", { text: c.name }),
      el("span", { class: "held", text: `${t("word.hall")}: ${c.zone} · ${c.clerk ? `${t("counter.held_by")}: ${c.clerk}` : t("counter.free")}` }),
      button(t("counter.sign_in"), async () => {
        if (await api("POST", `/counters/${c.id}/session`)) load();
      }, c.clerk ? "" : "primary"),
      el("div", { class: "serves" }, ...c.areas.map(serves)));
    root.replaceChildren(el("header", {}, el("h1", { text: t("counter.choose") })),
      el("div", { class: "choices" }, ...list.map(choice)));
  }

  function visitPanel(ticket) {
    const names = ticket.service.name;
    const stateButtons = ticket.state === "called"
      ? [button(t("counter.start"), () => act("/start"), "primary"), button(t("counter.recall"), () => act("/recall")),
        button(t("counter.no_show"), () => act("/no-show"), "danger"),
        button(t("counter.transfer"), () => { form = "transfer"; render(); })]
      : [button(t("counter.finish"), () => { form = "finish"; render(); }, "primary"),
        button(t("counter.hold"), () => act("/hold")),
        button(t("counter.transfer"), () => { form = "transfer"; render(); })];
    return el("div", {},
      el("p", { class: "label", id: "current-label", text: ticket.label }),
      el("p", { class: "service", text: named(names) }),
      ticket.category !== "general" ? el("p", { class: "badge", text: `${t("word.priority")}: ${
        named(categories[ticket.category]) || ticket.category}` }) : null,
      ticket.slot_at ? el("p", { class: "badge booked", id: "current-booking",
        text: t("counter.booked_for", { time: window.dostq.clock(ticket.slot_at) }) }) : null,
      el("p", { class: "state", id: "current-state", text: t(`ticket.state.${ticket.state}`) }),
      el("p", { class: "timers" }, el("span", { id: "timer", "data-arrived": ticket.arrived_at,
        "data-called": ticket.called_at || "" })),
      el("div", { class: "actions" }, ...stateButtons),
      formPanel(ticket));
  }

  function idlePanel() {
    const holds = counter.on_hold.length ? el("div", { class: "holds" },
      el("h2", { text: t("counter.on_hold") }), ...counter.on_hold.map((label) =>
        button(`${t("counter.resume")} ${label}`, () => act("/resume", { ticket: label })))) : null;
    return el("div", {},
      button(t("counter.call_next"), callNext, "call-next"),
      el("div", { class: "actions" },
        button(t("counter.call_specific"), () => { form = "specific"; render(); }),
        button(t("counter.walk_in"), () => { form = "walkin"; render(); })),
      holds, formPanel(null));
  }

  // A select with its accessible name (a select without one is axe's "select-name").
  function select(name, options, label) {
    return el("select", { name, ...(label ? { "aria-label": label } : {}) },
      ...options.map(([value, text]) => el("option", { value, text })));
  }
  function allServices() {
    return catalog.areas.flatMap((area) => area.services.map((s) => [s.code, `${area.letter} · ${named(s.name)}`]));
  }

  function formPanel(ticket) {
    if (!form) return null;
    const fields = el("div", { class: "fields" });
    let submit;
    if (form === "finish") {
      // The services delivered: ticked ones first, then this counter's own, or what the clerk
      // searches for (the kiosk's search: any language, marks optional), never cut short.
      const chosen = new Set([ticket.service.code]);
      const names = new Map(allServices());
      const checks = el("div", { class: "checks", id: "delivered" });
      const show = (codes) => checks.replaceChildren(...[...chosen,
        ...codes.filter((code) => !chosen.has(code))].map((code) => el("label", {},
        Object.assign(el("input", { type: "checkbox", name: "delivered", value: code,
          onchange: (event) => (event.target.checked ? chosen.add(code) : chosen.delete(code)) }),
        { checked: chosen.has(code) }), names.get(code) || code)));
      let searches = 0;
      const find = el("input", { type: "search", name: "find", autocomplete: "off",
        "aria-label": t("counter.find_service"), placeholder: t("counter.find_service"),
        oninput: async () => {
          const text = find.value.trim();
          const seq = ++searches;
          if (!text) return show(counter.services);
          const found = await api("GET", `/catalog/search?q=${encodeURIComponent(text)}&lang=${language}`);
          if (found && seq === searches) show(found.services);
        } });
      show(counter.services);
      fields.append(el("h2", { text: t("counter.delivered") }), find, checks,
        el("h2", { text: t("counter.outcome") }), select("outcome",
          OUTCOMES.map((code) => [code, t(`counter.outcome.${code}`)]), t("counter.outcome")));
      submit = () => act("/finish", { delivered: [...chosen],
        outcome: fields.querySelector("select[name=outcome]").value });
    } else if (form === "transfer") {
      // To a service, a named counter, or both (the counter must serve the service).
      const others = counters.filter((c) => c.id !== counter.id);
      fields.append(el("label", {}, t("word.service"), select("service", [["", "—"], ...allServices()])),
        el("label", {}, t("word.counter"), select("counter", [["", t("counter.any_counter")],
          ...others.map((c) => [String(c.id), `${c.name}${c.clerk ? ` (${c.clerk})` : ""}`])])));
      submit = () => {
        const service = fields.querySelector("select[name=service]").value;
        const to = fields.querySelector("select[name=counter]").value;
        return act("/transfer", { ...(service ? { service } : {}), ...(to ? { counter: Number(to) } : {}) });
      };
    } else if (form === "specific") {
      fields.append(el("label", {}, t("counter.label"), el("input", { name: "ticket", autocomplete: "off",
        required: "", placeholder: "A-007" })),
        el("label", {}, `${t("counter.reason")} (${t("word.required")})`, el("input", { name: "reason", required: "" })));
      submit = () => act("/call", { ticket: fields.querySelector("input[name=ticket]").value.trim(),
        reason: fields.querySelector("input[name=reason]").value.trim() });
    } else if (form === "walkin") {
      fields.append(el("label", {}, t("word.service"), select("service", allServices())));
      submit = () => act("/walk-in", { service: fields.querySelector("select[name=service]").value });
    } else if (form === "break") {
      // How long: visitors are told their wait with this counter back then (arrow keys move).
      const lengths = BREAK_MINUTES.map((m) => el("label", { class: "length" },
        el("input", { type: "radio", name: "minutes", value: String(m), ...(m === 15 ? { checked: "" } : {}) }),
        ` ${t("counter.minutes", { m })}`));
      fields.append(el("fieldset", { class: "break-length" },
        el("legend", { text: t("counter.break_length") }), ...lengths),
        el("label", {}, t("counter.reason"), el("input", { name: "reason" })));
      submit = () => act("/status", { status: "break",
        minutes: Number(fields.querySelector("input[name=minutes]:checked").value),
        reason: fields.querySelector("input[name=reason]").value.trim() || undefined }, null, "PUT");
    }
    return el("div", { class: "form", id: `form-${form}` }, fields, el("div", { class: "actions" },
      button(t("counter.confirm"), submit, "primary"), button(t("common.cancel"), () => { form = null; render(); })));
  }

  function queuePanel() {
    // A counter kept for some visitor categories counts only the people it may call.
    const callable = (w) => (counter.categories
      ? counter.categories.reduce((sum, c) => sum + ((w.categories || {})[c] || 0), 0) : w.waiting);
    const mine = waiting.filter((w) => counter.services.includes(w.service) && callable(w) > 0)
      .map((w) => ({ ...w, waiting: callable(w) }));
    return el("section", { class: "queue" }, el("h2", { text: t("counter.queue") }),
      mine.length === 0 ? el("p", { text: t("counter.nobody") }) : el("table", {}, ...mine.map((w) =>
        el("tr", {}, el("td", { text: `${w.letter} · ${named(services[w.service]) || w.service}` }),
          el("td", { class: "count", text: String(w.waiting) }),
          el("td", { text: minutes(w.longest_wait_s) })))));
  }

  function dayPanel() {
    const day = counter.today || { served: 0, no_show: 0, average_service_s: null };
    return el("section", { class: "day" }, el("h2", { text: t("counter.my_day") }),
      el("p", { id: "served", text: `${t("counter.served")}: ${day.served}` }),
      el("p", { text: `${t("counter.no_shows")}: ${day.no_show}` }),
      el("p", { text: `${t("counter.average")}: ${day.average_service_s === null ? "—"
        : minutes(day.average_service_s)}` }),
      // Only this clerk's own visits: what visitors said of them today.
      el("p", { id: "satisfied", text: day.rated
        ? t("counter.satisfied", { percent: day.satisfied_percent, count: day.rated })
        : t("counter.not_rated") }));
  }

  function tick() {
    const timer = document.getElementById("timer");
    if (!timer) return;
    const now = Date.now() / 1000;
    const arrived = Number(timer.dataset.arrived);
    const called = Number(timer.dataset.called) || now;
    timer.textContent = `${t("counter.waited")}: ${minutes(called - arrived)} · ${t("counter.serving")}: ${
      minutes(now - called)}`;
  }
  setInterval(tick, 1000);

  async function callNext() {
    const key = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    await act("/call-next", null, { "Idempotency-Key": key });
  }

  document.addEventListener("keydown", (event) => {
    if (!counter || event.target.matches("input, select, textarea")) return;
    const ticket = counter.ticket;
    const keys = {
      " ": () => !ticket && callNext(), r: () => ticket && act("/recall"),
      s: () => ticket && ticket.state === "called" && act("/start"),
      n: () => ticket && ticket.state === "called" && act("/no-show"),
      f: () => ticket && ticket.state === "serving" && (form = "finish", render()),
    };
    const action = keys[event.key.toLowerCase()];
    if (action) { event.preventDefault(); action(); }
  });

  const socket = io({ transports: ["websocket"] });
  socket.on("snapshot", (snapshot) => { waiting = snapshot.waiting; if (counter) render(); });
  socket.on("queue_changed", (data) => {
    waiting = data.waiting;
    const queue = document.querySelector(".queue");
    if (counter && queue) queue.replaceWith(queuePanel());
  });
  socket.on("counter_changed", (changed) => { if (counter && changed.id === counter.id) load(); });
  socket.on("ticket_called", (call) => { if (counter && call.counter_id === counter.id) load(); });
  socket.on("keypad_refused", (refusal) => {
    if (counter && refusal.counter_id === counter.id) say(window.dostq.refusal(refusal));
  });

  // Any ticket of today, by its number: reprint it or cancel it (ticket_actions.js).
  window.dostq.ticketActions.finder(document.getElementById("ticket-finder"));

  fetch(root.dataset.catalogUrl, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    catalog = data;
    for (const area of data.areas) for (const s of area.services) services[s.code] = s.name;
    for (const c of data.priority_categories) categories[c.code] = c.name;
    load();
  });
})();
