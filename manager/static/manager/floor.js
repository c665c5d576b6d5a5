// The live floor: every socket event only says "something moved"; the page then reads the
// whole floor again, so it can never drift from the server, however many events it missed.
"use strict";
(() => {
  const root = document.getElementById("floor");
  const $ = (id) => document.getElementById(id);
  const STATUS = { open: "açıq / open", closed: "bağlı / closed", break: "fasilə / break" };

  const minutes = (seconds) => (seconds == null ? "–" : seconds < 60 ? "<1 dəq" : `${Math.floor(seconds / 60)} dəq`);
  const clock = (epoch) => new Date(epoch * 1000).toLocaleTimeString("az", { hour: "2-digit", minute: "2-digit" });
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
      item.textContent = `Kömək lazımdır / Help needed: ${help.device}${help.zone ? ` (${help.zone})` : ""}, ${clock(help.at)} `;
      const button = document.createElement("button");
      button.textContent = "Cavablandı / Answered";
      button.addEventListener("click", () => resolve(help.id));
      item.append(button);
      box.append(item);
    }
    for (const alert of floor.alerts) {  // a long wait, an idle counter: for the manager to act on
      box.append(Object.assign(document.createElement("div"), { className: `alert ${alert.kind}`, textContent: alert.message }));
    }
    for (const ticket of floor.unconfirmed) {
      const item = document.createElement("div");
      item.className = "alert";
      item.dataset.ticket = ticket.label;
      item.append(`${ticket.label}: çap təsdiqlənməyib / print never confirmed (${clock(ticket.arrived_at)}) `,
        window.dostq.ticketActions.actionsFor({ ...ticket, state: "issued" }, refresh));
      box.append(item);
    }
    for (const printer of floor.printers.filter((p) => p.state !== "ready")) {
      const item = document.createElement("div");
      item.className = "alert";
      item.textContent = `${printer.device}: ${printer.message}`;
      box.append(item);
    }
    if (floor.sockets.near_limit) {
      const item = document.createElement("div");
      item.className = "alert";
      item.id = "sockets-near-limit";
      item.textContent = `Ekran bağlantıları həddə yaxındır / Live screens near the limit: ${floor.sockets.open} / ${floor.sockets.limit} (DOSTQ_MAX_SOCKETS)`;
      box.append(item);
    }
    // A display that was on and went off is an alert; one never connected yet (a TV still to
    // be set up) shows in the device list only.
    for (const display of floor.displays.filter((d) => !d.online && d.last_seen_at)) {
      const item = document.createElement("div");
      item.className = "alert";
      item.textContent = `${display.name}: ekran bağlantısı kəsilib / display went offline (${clock(display.last_seen_at)})`;
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
      cell(row, `${area.letter} · ${area.name}`);
      cell(row, area.waiting, "num");
      cell(row, area.priority, "num");
      cell(row, area.waiting ? minutes(area.longest_wait_s) : "–", "num");
    }
    const counters = $("counters");
    counters.replaceChildren();
    for (const counter of floor.counters) {
      const row = counters.insertRow();
      cell(row, counter.name);
      cell(row, STATUS[counter.status] + (counter.reason ? ` (${counter.reason})` : ""), `status-${counter.status}`);
      cell(row, counter.clerk || "–");
      cell(row, counter.ticket ? `${counter.ticket.label} (${counter.ticket.state})` : "–");
    }
    const devices = $("devices");
    devices.replaceChildren();
    for (const printer of floor.printers) {
      const item = document.createElement("li");
      item.className = printer.state === "ready" ? "ok" : "bad";
      item.textContent = `Printer ${printer.device}: ${printer.message}`;
      devices.append(item);
    }
    for (const display of floor.displays) {
      const item = document.createElement("li");
      item.className = display.online ? "ok" : "bad";
      item.textContent = `Ekran / Display ${display.name}${display.zone ? ` (${display.zone})` : ""}: ${display.online ? "qoşulub / online" : "qoşulmayıb / offline"}`;
      devices.append(item);
    }
    const kinds = floor.sockets.by_kind;
    $("sockets").textContent = `Canlı ekranlar / Live screens: ${floor.sockets.open} / ${floor.sockets.limit} — ekran / display ${kinds.display}, kiosk ${kinds.kiosk}, masa / counter ${kinds.counter}, menecer / manager ${kinds.manager}`;
    renderAlerts(floor);
    $("alert-count").textContent = $("alerts").children.length;
    $("hq-sync").textContent = hqText(floor.hq, floor.at);
    $("updated").textContent = clock(floor.at);
    root.dataset.at = floor.at;
  }

  function ago(seconds) {
    if (seconds < 3600) return `${Math.floor(seconds / 60)} dəq / min`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} saat / h`;
    return `${Math.floor(seconds / 86400)} gün / days`;
  }

  function hqText(hq, now) {
    if (!hq.configured) return "HQ: qoşulmayıb / not set up";
    const synced = hq.last_success_at ? `${ago(now - hq.last_success_at)} əvvəl / ago` : "heç vaxt / never";
    const problem = hq.pending_days && hq.last_error ? ` · ${hq.last_error}` : "";
    return `HQ: son sinxron / last synced ${synced}, ${hq.pending_days} gün gözləyir / days pending${problem}`;
  }

  let reading = null;
  let again = false;
  async function refresh() {
    if (reading) { again = true; return; }
    reading = fetch(root.dataset.floorUrl, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(render)
      .catch(() => { $("link").textContent = "məlumat alınmadı / could not read the floor"; })
      .finally(() => { reading = null; if (again) { again = false; refresh(); } });
  }

  async function resolve(id) {
    await window.dostq.send("POST", `/manager/assistance/${id}/resolve`);
    refresh();
  }

  window.dostq.ticketActions.finder($("ticket-finder"), refresh);

  const socket = io({ transports: ["websocket"] });
  socket.on("connect", () => { $("link").textContent = "canlı / live"; root.dataset.live = "1"; });
  socket.on("disconnect", () => { $("link").textContent = "bağlantı kəsilib / reconnecting…"; root.dataset.live = ""; });
  for (const name of ["snapshot", "queue_changed", "ticket_called", "counter_changed", "printer_status",
    "print_result", "assistance_requested", "assistance_resolved", "display_status", "device_status"]) {
    socket.on(name, refresh);
  }
  // Waits grow while nothing happens: read again every half minute anyway.
  setInterval(refresh, 30000);
  refresh();
})();
