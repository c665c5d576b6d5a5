// The live floor: every socket event only says "something moved"; the page then reads the
// whole floor again, so it can never drift from the server, however many events it missed.
"use strict";
(() => {
  const root = document.getElementById("floor");
  const $ = (id) => document.getElementById(id);
  const { t, named, language } = window.dostq;

  const minutes = (seconds) => (seconds == null ? "–" : seconds < 60 ? t("floor.under_a_minute")
    : t("floor.minutes", { count: Math.floor(seconds / 60) }));
  const { clock } = window.dostq;  // the center's time zone, as the server draws times
  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function renderAlerts(floor) {
    const box = $("alerts");
    box.replaceChildren();
    for (const help of floor.assistance) {
      const item = document.createElement("div");
      item.className = "alert";
      item.textContent = `${t("floor.help_needed", { device: help.device + (help.zone ? ` (${help.zone})` : ""), at: clock(help.at) })} `;
      const button = document.createElement("button");
      button.textContent = t("floor.answered");
      button.addEventListener("click", () => resolve(help.id));
      item.append(button);
      box.append(item);
    }
    for (const alert of floor.alerts) {  // a long wait, an idle counter: for the manager to act on
      box.append(Object.assign(document.createElement("div"), { className: `alert ${alert.kind}`,
        textContent: t(`floor.alert.${alert.kind}`, { ...alert, service: `${alert.letter} · ${named(alert.service_name)}` }) }));
    }
    for (const ticket of floor.not_printed) {  // the visitor has only the kiosk's screen
      const item = document.createElement("div");
      item.className = "alert not-printed";
      item.dataset.ticket = ticket.label;
      item.append(`${t("floor.not_printed", { label: ticket.label, at: clock(ticket.arrived_at) })} `,
        window.dostq.ticketActions.actionsFor(ticket, refresh));
      box.append(item);
    }
    for (const ticket of floor.unconfirmed) {
      const item = document.createElement("div");
      item.className = "alert";
      item.dataset.ticket = ticket.label;
      item.append(`${t("floor.unconfirmed", { label: ticket.label, at: clock(ticket.arrived_at) })} `,
        window.dostq.ticketActions.actionsFor({ ...ticket, state: "issued" }, refresh));
      box.append(item);
    }
    for (const printer of floor.printers.filter((p) => p.state !== "ready")) {
      const item = document.createElement("div");
      item.className = "alert";
      item.textContent = `${printer.device}: ${t(`printer.state.${printer.state}`)}`;
      item.title = printer.message;
      box.append(item);
    }
    if (floor.backup && floor.backup.late) {  // no backup for 36 h: a disk to check tonight
      const item = document.createElement("div");
      item.className = "alert";
      item.id = "backup-late";
      item.textContent = floor.backup.last_at
        ? t("floor.backup_late", { hours: Math.floor((floor.at - floor.backup.last_at) / 3600) })
        : t("floor.backup_never");
      box.append(item);
    }
    if (floor.voice_missing) {  // the displays call with the chime alone until it is installed
      const item = document.createElement("div");
      item.className = "alert";
      item.id = "voice-missing";
      item.textContent = t("floor.voice_missing");
      item.title = floor.voice_missing;
      box.append(item);
    }
    if (floor.hq && floor.hq.clock_off) {  // ticket times and HQ's signatures need a true clock
      const item = document.createElement("div");
      item.className = "alert";
      item.id = "clock-off";
      const minutes = Math.round(Math.abs(floor.hq.clock_offset_s) / 60);
      item.textContent = t(floor.hq.clock_offset_s > 0 ? "floor.clock_behind" : "floor.clock_ahead", { minutes });
      box.append(item);
    }
    if (floor.sockets.near_limit) {
      const item = document.createElement("div");
      item.className = "alert";
      item.id = "sockets-near-limit";
      item.textContent = `${t("floor.sockets_near_limit", { open: floor.sockets.open, limit: floor.sockets.limit })} (DOSTQ_MAX_SOCKETS)`;
      box.append(item);
    }
    // A display that was on and went off is an alert; one never connected yet (a TV still to
    // be set up) shows in the device list only.
    for (const screen of [...floor.displays, ...floor.kiosks].filter((d) => !d.online && d.last_seen_at)) {
      const item = document.createElement("div");
      item.className = "alert";
      item.textContent = t(screen.kind === "kiosk" ? "floor.kiosk_offline" : "floor.display_offline",
        { name: screen.name, at: clock(screen.last_seen_at) });
      box.append(item);
    }
    for (const line of floor.serial_lines.filter((l) => !l.connected)) {
      const item = document.createElement("div");
      item.className = "alert";
      // The kind, in words; pyserial's own text stays a tooltip for the technician.
      item.textContent = t("floor.line_down", { url: line.url, message: t(`floor.line_problem.${line.problem || "lost"}`) });
      item.title = line.message || "";
      box.append(item);
    }
  }

  function render(floor) {
    $("waiting").textContent = floor.waiting;
    $("longest").textContent = minutes(floor.longest_wait_s);
    $("calls").textContent = floor.calls_last_hour;
    $("today").textContent = `${floor.today.issued} · ${floor.today.served} · ${floor.today.no_show}`;
    $("counters-summary").textContent = `${floor.counters_open} · ${floor.counters_serving} · ${floor.counters_on_break}`;
    const areas = $("areas");
    areas.replaceChildren();
    for (const area of floor.areas) {
      const row = areas.insertRow();
      row.dataset.letter = area.letter;
      cell(row, `${area.letter} · ${named(area.names) || area.name}`);
      cell(row, area.waiting, "num");
      cell(row, area.priority, "num");
      cell(row, area.waiting ? minutes(area.longest_wait_s) : "–", "num");
    }
    const counters = $("counters");
    counters.replaceChildren();
    for (const counter of floor.counters) {
      const row = counters.insertRow();
      cell(row, counter.name);
      // A break says when it ends: who is due back when (the wait told counts on it too).
      const back = counter.status === "break" && counter.break_until
        ? ` · ${t("counter.back_at", { time: clock(counter.break_until) })}` : "";
      const planned = counter.break_planned  // the wave it goes with (Admin → Counters)
        ? ` · ${t("counter.break_planned", { from: clock(counter.break_planned[0]), to: clock(counter.break_planned[1]) })}` : "";
      cell(row, t(`counter.status.${counter.status}`) + (counter.reason ? ` (${counter.reason})` : "") + back + planned, `status-${counter.status}`);
      cell(row, counter.clerk || "–");
      cell(row, counter.ticket ? `${counter.ticket.label} (${t(`ticket.state.${counter.ticket.state}`)})` : "–");
      const actions = cell(row, "");
      if (counter.clerk || counter.status !== "closed") {  // a clerk away, ill, gone home
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary release";
        button.textContent = t("floor.release");
        button.addEventListener("click", () => release(counter));
        actions.append(button);
      }
    }
    const devices = $("devices");
    devices.replaceChildren();
    for (const printer of floor.printers) {
      const item = document.createElement("li");
      item.className = printer.state === "ready" ? "ok" : "bad";
      // Drawn until its calibration ticket shows text right (Admin → People → its printer).
      item.textContent = `${t("word.printer")} ${printer.device}: ${t(`printer.state.${printer.state}`)} · ${t(`people.print_mode.${printer.print_mode}`)}`;
      item.title = printer.message;
      devices.append(item);
    }
    // Screens a browser shows (a kiosk that only lends its printer never connects: not listed).
    for (const screen of [...floor.displays, ...floor.kiosks.filter((k) => k.online || k.last_seen_at)]) {
      const item = document.createElement("li");
      // Never connected yet (a TV still to be set up): nothing broke, so nothing red.
      item.className = screen.online ? "ok" : screen.last_seen_at ? "bad" : "idle";
      const seen = !screen.online && screen.last_seen_at ? ` (${t("floor.last_seen", { at: clock(screen.last_seen_at) })})` : "";
      item.textContent = `${t(`device.${screen.kind}`)} ${screen.name}${screen.zone ? ` (${screen.zone})` : ""}: ${t(screen.online ? "floor.online" : screen.last_seen_at ? "floor.offline" : "floor.not_yet")}${seen}`;
      devices.append(item);
    }
    for (const line of floor.serial_lines) {
      const item = document.createElement("li");
      item.className = line.connected ? "ok" : "bad";
      item.textContent = `${t("floor.serial_line")} ${line.url}: ${t(line.connected ? "floor.online" : "floor.offline")}${
        line.connected ? "" : ` · ${t(`floor.line_problem.${line.problem || "lost"}`)}`}`;
      item.title = line.message || "";
      devices.append(item);
    }
    const kinds = floor.sockets.by_kind;
    $("sockets").textContent = t("floor.sockets", { open: floor.sockets.open, limit: floor.sockets.limit, strangers: floor.sockets.strangers, ...kinds });
    renderAlerts(floor);
    $("alert-count").textContent = $("alerts").children.length;
    $("hq-sync").textContent = hqText(floor.hq, floor.at);
    $("backup").textContent = t("floor.backup_taken", {
      ago: floor.backup.last_at ? ago(floor.at - floor.backup.last_at) : t("ago.never") });
    $("updated").textContent = clock(floor.at);
    root.dataset.at = floor.at;
  }

  function ago(seconds) {
    if (seconds < 3600) return t("ago.minutes", { count: Math.floor(seconds / 60) });
    if (seconds < 86400) return t("ago.hours", { count: Math.floor(seconds / 3600) });
    return t("ago.days", { count: Math.floor(seconds / 86400) });
  }

  function hqText(hq, now) {
    if (!hq.configured) return t("floor.hq_not_set_up");
    const synced = hq.last_success_at ? ago(now - hq.last_success_at) : t("ago.never");
    // The kind of problem, in words; the library's own text is for `dostq sync --status`.
    const problem = hq.pending_days && hq.last_error
      ? ` · ${t(`floor.hq_problem.${hq.last_problem || "other"}`)}` : "";
    return t("floor.hq_synced", { synced, pending: hq.pending_days }) + problem;
  }

  let reading = null;
  let again = false;
  async function refresh() {
    if (reading) { again = true; return; }
    reading = fetch(root.dataset.floorUrl, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(render)
      .catch(() => { $("link").textContent = t("floor.unreadable"); })
      .finally(() => { reading = null; if (again) { again = false; refresh(); } });
  }

  async function release(counter) {
    if (!window.confirm(t("floor.release_confirm", { counter: counter.name }))) return;
    const response = await window.dostq.send("POST", `/manager/counters/${counter.id}/release`);
    if (!response.ok) window.alert(await window.dostq.refused(response));  // in words, never JSON
    refresh();
  }

  async function resolve(id) {
    await window.dostq.send("POST", `/manager/assistance/${id}/resolve`);
    refresh();
  }

  // Once the last ticket is out: the counters the next open day needs, hour by hour.
  async function nextDay() {
    const section = $("next-day");
    const response = await fetch(section.dataset.url, { credentials: "same-origin" }).catch(() => null);
    const advice = response && response.ok ? (await response.json()).advice : null;
    section.hidden = !advice;
    if (!advice) return;
    const hour = (h) => `${String(h).padStart(2, "0")}:00`;
    $("next-day-text").textContent = t("floor.next_day_text", {
      day: advice.day_label, visitors: advice.visitors, peak: advice.peak.counters,
      hour: hour(advice.peak.hour), now: advice.counters_now, goal: advice.goal_percent,
      minutes: advice.goal_min });
    $("next-day-hours").textContent = advice.hours.map((h) => `${hour(h.hour)} ${h.counters}`).join(" · ");
    $("next-day-link").href = `${section.dataset.planner}?day=${advice.day}`;
  }

  window.dostq.ticketActions.finder($("ticket-finder"), refresh);

  const socket = io({ transports: ["websocket"] });
  socket.on("connect", () => { $("link").textContent = t("floor.live"); root.dataset.live = "1"; });
  socket.on("disconnect", () => { $("link").textContent = t("floor.reconnecting"); root.dataset.live = ""; });
  for (const name of ["snapshot", "queue_changed", "ticket_called", "counter_changed", "printer_status",
    "print_result", "assistance_requested", "assistance_resolved", "display_status", "device_status"]) {
    socket.on(name, refresh);
  }
  // Waits grow while nothing happens: read again every half minute anyway.
  setInterval(refresh, 30000);
  refresh();
  setInterval(nextDay, 600000);
  nextDay();
})();
