// The clerk's counter page: call, recall, serve, finish, transfer, hold, break, walk-in.
// Shortcuts: Space = call next, R = recall, S = start, N = no-show, F = finish.
"use strict";

(function () {
  const TEXT = {
    choose: "Masanı seçin", signIn: "Bu masada işləyirəm", signOut: "Masadan çıx",
    callNext: "Növbəti vətəndaş (Boşluq)", recall: "Təkrar çağır (R)", start: "Qəbula başla (S)",
    noShow: "Gəlmədi (N)", finish: "Bitir (F)", hold: "Gözlət", transfer: "Yönləndir",
    resume: "Davam et", breakStart: "Fasilə", breakEnd: "Fasilədən qayıt", reason: "Səbəb",
    callSpecific: "Nömrəni çağır", walkIn: "Biletsiz vətəndaş", service: "Xidmət",
    counter: "Masa", delivered: "Göstərilən xidmətlər", outcome: "Nəticə",
    find: "Xidməti axtar / Search a service",
    outcomes: { done: "Xidmət göstərildi", documents_missing: "Sənəd çatışmır",
      referred: "Başqa quruma yönləndirildi" },
    save: "Təsdiq et", cancel: "Ləğv et", waiting: "Gözləyir", waited: "Gözləmə",
    serving: "Qəbul", onHold: "Gözlədilənlər", queue: "Növbə", myDay: "Mənim günüm",
    served: "Qəbul olunub", noShows: "Gəlməyib", average: "Orta qəbul", minutes: "dəq",
    onBreak: "Fasilədə", nobody: "Növbədə heç kim yoxdur", states: { called: "Çağırılıb",
      serving: "Qəbulda" }, label: "Bilet nömrəsi (A-042)", priority: "Güzəştli",
    anyCounter: "— istənilən masa —", heldBy: "Masada", free: "Boşdur", hall: "Zal",
    // The API's refusals, by code, in the clerk's language (its own message stays the fallback).
    errors: {
      counter_taken: "Bu masada başqa işçi işləyir.",
      signed_in_elsewhere: "Siz başqa masadasınız: əvvəlcə oradan çıxın.",
      counter_busy: "Əvvəlcə cari vətəndaşı bitirin və ya gəlmədi qeyd edin.",
      counter_not_open: "Masa açıq deyil: fasilədən qayıdın.",
      no_active_ticket: "Masada çağırılmış vətəndaş yoxdur.",
      queue_empty: "Bu masanın xidmətlərinə növbədə heç kim yoxdur.",
      not_your_counter: "Siz bu masada deyilsiniz: əvvəlcə masanı seçin.",
      counter_does_not_serve: "Seçilən masa bu xidməti göstərmir.",
      nothing_to_transfer_to: "Xidmət və ya masa seçin.",
      unknown_ticket: "Belə bilet yoxdur.",
      invalid_transition: "Bu bilet üçün bu addım mümkün deyil.",
      closed: "Mərkəz bağlıdır.",
    },
  };
  const root = document.getElementById("counter");
  const messageBar = document.getElementById("message");
  const { el, button, send } = window.dostq;
  const me = Number(root.dataset.userId);
  let catalog = null;
  let services = {}; // code -> names
  let categories = {};
  let counter = null; // GET /counters/{id}
  let waiting = [];
  let form = null; // "finish" | "transfer" | "specific" | "walkin" | "break"

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
      const error = data.error || {};
      say(TEXT.errors[error.code] || error.message || `${response.status}`);
      return null;
    }
    say("");
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
      counter.status === "break" ? el("span", { class: "badge", text: `${TEXT.onBreak}: ${counter.reason || ""}` }) : null,
      counter.status === "break" ? button(TEXT.breakEnd, () => act("/status", { status: "open" }, null, "PUT"), "secondary")
        : button(TEXT.breakStart, () => { form = "break"; render(); }, "secondary"),
      button(TEXT.signOut, async () => { await api("DELETE", `/counters/${counter.id}/session`); load(); }, "secondary"));
    const visit = el("section", { class: "visit" }, ticket ? visitPanel(ticket) : idlePanel());
    const side = el("aside", {}, queuePanel(), dayPanel());
    root.replaceChildren(header, el("div", { class: "layout" }, visit, side));
    tick();
  }

  // Each counter with its hall, who holds it and what it serves, by area.
  function renderChoice(list) {
    const serves = (area) => el("details", {},
      el("summary", { text: `${area.letter} · ${area.name} (${area.services.length})` }),
      el("ul", {}, ...area.services.map((code) => el("li", { text: (services[code] || {}).az || code }))));
    const choice = (c) => el("div", { class: "choice", "data-counter": c.id },
      el("strong", { text: c.name }),
      el("span", { class: "held", text: `${TEXT.hall}: ${c.zone} · ${c.clerk ? `${TEXT.heldBy}: ${c.clerk}` : TEXT.free}` }),
      button(TEXT.signIn, async () => {
        if (await api("POST", `/counters/${c.id}/session`)) load();
      }, c.clerk ? "" : "primary"),
      el("div", { class: "serves" }, ...c.areas.map(serves)));
    root.replaceChildren(el("header", {}, el("h1", { text: TEXT.choose })),
      el("div", { class: "choices" }, ...list.map(choice)));
  }

  function visitPanel(ticket) {
    const names = ticket.service.name;
    const stateButtons = ticket.state === "called"
      ? [button(TEXT.start, () => act("/start"), "primary"), button(TEXT.recall, () => act("/recall")),
        button(TEXT.noShow, () => act("/no-show"), "danger"),
        button(TEXT.transfer, () => { form = "transfer"; render(); })]
      : [button(TEXT.finish, () => { form = "finish"; render(); }, "primary"),
        button(TEXT.hold, () => act("/hold")),
        button(TEXT.transfer, () => { form = "transfer"; render(); })];
    return el("div", {},
      el("p", { class: "label", id: "current-label", text: ticket.label }),
      el("p", { class: "service", text: names.az }),
      ticket.category !== "general" ? el("p", { class: "badge", text: `${TEXT.priority}: ${
        categories[ticket.category] || ticket.category}` }) : null,
      el("p", { class: "state", id: "current-state", text: TEXT.states[ticket.state] || ticket.state }),
      el("p", { class: "timers" }, el("span", { id: "timer", "data-arrived": ticket.arrived_at,
        "data-called": ticket.called_at || "" })),
      el("div", { class: "actions" }, ...stateButtons),
      formPanel(ticket));
  }

  function idlePanel() {
    const holds = counter.on_hold.length ? el("div", { class: "holds" },
      el("h2", { text: TEXT.onHold }), ...counter.on_hold.map((label) =>
        button(`${TEXT.resume} ${label}`, () => act("/resume", { ticket: label })))) : null;
    return el("div", {},
      button(TEXT.callNext, callNext, "call-next"),
      el("div", { class: "actions" },
        button(TEXT.callSpecific, () => { form = "specific"; render(); }),
        button(TEXT.walkIn, () => { form = "walkin"; render(); })),
      holds, formPanel(null));
  }

  // A select with its accessible name (a select without one is axe's "select-name").
  function select(name, options, label) {
    return el("select", { name, ...(label ? { "aria-label": label } : {}) },
      ...options.map(([value, text]) => el("option", { value, text })));
  }
  function allServices() {
    return catalog.areas.flatMap((area) => area.services.map((s) => [s.code, `${area.letter} · ${s.name.az}`]));
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
        "aria-label": TEXT.find, placeholder: TEXT.find,
        oninput: async () => {
          const text = find.value.trim();
          const seq = ++searches;
          if (!text) return show(counter.services);
          const found = await api("GET", `/catalog/search?q=${encodeURIComponent(text)}&lang=az`);
          if (found && seq === searches) show(found.services);
        } });
      show(counter.services);
      fields.append(el("h2", { text: TEXT.delivered }), find, checks,
        el("h2", { text: TEXT.outcome }), select("outcome", Object.entries(TEXT.outcomes), TEXT.outcome));
      submit = () => act("/finish", { delivered: [...chosen],
        outcome: fields.querySelector("select[name=outcome]").value });
    } else if (form === "transfer") {
      // To a service, a named counter, or both (the counter must serve the service).
      const others = counters.filter((c) => c.id !== counter.id);
      fields.append(el("label", {}, TEXT.service, select("service", [["", "—"], ...allServices()])),
        el("label", {}, TEXT.counter, select("counter", [["", TEXT.anyCounter],
          ...others.map((c) => [String(c.id), `${c.name}${c.clerk ? ` (${c.clerk})` : ""}`])])));
      submit = () => {
        const service = fields.querySelector("select[name=service]").value;
        const to = fields.querySelector("select[name=counter]").value;
        return act("/transfer", { ...(service ? { service } : {}), ...(to ? { counter: Number(to) } : {}) });
      };
    } else if (form === "specific") {
      fields.append(el("label", {}, TEXT.label, el("input", { name: "ticket", autocomplete: "off" })),
        el("label", {}, TEXT.reason, el("input", { name: "reason" })));
      submit = () => act("/call", { ticket: fields.querySelector("input[name=ticket]").value.trim(),
        reason: fields.querySelector("input[name=reason]").value.trim() });
    } else if (form === "walkin") {
      fields.append(el("label", {}, TEXT.service, select("service", allServices())));
      submit = () => act("/walk-in", { service: fields.querySelector("select[name=service]").value });
    } else if (form === "break") {
      fields.append(el("label", {}, TEXT.reason, el("input", { name: "reason" })));
      submit = () => act("/status", { status: "break",
        reason: fields.querySelector("input[name=reason]").value.trim() || undefined }, null, "PUT");
    }
    return el("div", { class: "form", id: `form-${form}` }, fields, el("div", { class: "actions" },
      button(TEXT.save, submit, "primary"), button(TEXT.cancel, () => { form = null; render(); })));
  }

  function queuePanel() {
    const mine = waiting.filter((w) => counter.services.includes(w.service));
    return el("section", { class: "queue" }, el("h2", { text: TEXT.queue }),
      mine.length === 0 ? el("p", { text: TEXT.nobody }) : el("table", {}, ...mine.map((w) =>
        el("tr", {}, el("td", { text: `${w.letter} · ${(services[w.service] || {}).az || w.service}` }),
          el("td", { class: "count", text: String(w.waiting) }),
          el("td", { text: minutes(w.longest_wait_s) })))));
  }

  function dayPanel() {
    const day = counter.today || { served: 0, no_show: 0, average_service_s: null };
    return el("section", { class: "day" }, el("h2", { text: TEXT.myDay }),
      el("p", { id: "served", text: `${TEXT.served}: ${day.served}` }),
      el("p", { text: `${TEXT.noShows}: ${day.no_show}` }),
      el("p", { text: `${TEXT.average}: ${day.average_service_s === null ? "—"
        : minutes(day.average_service_s)} ${TEXT.minutes}` }));
  }

  function tick() {
    const timer = document.getElementById("timer");
    if (!timer) return;
    const now = Date.now() / 1000;
    const arrived = Number(timer.dataset.arrived);
    const called = Number(timer.dataset.called) || now;
    timer.textContent = `${TEXT.waited}: ${minutes(called - arrived)} · ${TEXT.serving}: ${
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
    if (counter && refusal.counter_id === counter.id) say(refusal.message);
  });

  // Any ticket of today, by its number: reprint it or cancel it (ticket_actions.js).
  window.dostq.ticketActions.finder(document.getElementById("ticket-finder"));

  fetch(root.dataset.catalogUrl, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    catalog = data;
    for (const area of data.areas) for (const s of area.services) services[s.code] = s.name;
    for (const c of data.priority_categories) categories[c.code] = c.name.az;
    load();
  });
})();
