// Ticket actions where staff stand (the floor, the counter page): find today's ticket by its
// number, then reprint it or cancel it with a reason. One module for both pages, loaded after
// screen.js; each page gives it a container and says what to do once something changed.
"use strict";

window.dostq.ticketActions = (function () {
  const { el, button, send } = window.dostq;
  const STATE = {
    issued: "verilib, çap təsdiqlənməyib / issued, print not confirmed", waiting: "gözləyir / waiting",
    called: "çağırılıb / called", serving: "xidmətdə / being served", on_hold: "gözlədilir / on hold",
    done: "xidmət olunub / served", no_show: "gəlməyib / no-show", cancelled: "ləğv edilib / cancelled",
    closed_unserved: "gün bağlanıb, xidmət olunmayıb / day closed, unserved",
  };
  const REASONS = [
    ["visitor_left", "Ziyarətçi getdi / Visitor left"],
    ["not_printed", "Bilet çap olunmadı / Ticket not printed"],
    ["duplicate", "Təkrar bilet / Duplicate ticket"],
    ["wrong_service", "Səhv xidmət / Wrong service"],
  ];
  const CANCELLABLE = ["issued", "waiting", "on_hold"];
  const REPRINTABLE = ["issued", "waiting"];

  async function problem(response) {
    try { return (await response.json()).error.message; } catch { return `HTTP ${response.status}`; }
  }

  // The buttons for one ticket: reprint, and cancel with a reason; ``done(message)`` after each.
  function actionsFor(ticket, done) {
    const box = el("span", { class: "ticket-actions" });
    if (REPRINTABLE.includes(ticket.state)) {
      box.append(button("Yenidən çap / Reprint", async () => {
        const response = await send("POST", `/api/v1/tickets/${ticket.id}/reprint`);
        done(response.ok ? `${ticket.label}: yenidən çapa göndərildi / sent to print again`
          : `${ticket.label}: ${await problem(response)}`, response.ok);
      }));
    }
    if (CANCELLABLE.includes(ticket.state)) {
      const reason = el("select", { "aria-label": `Ləğv səbəbi / Reason to cancel ${ticket.label}` },
        ...REASONS.map(([value, text]) => el("option", { value, text })));
      box.append(reason, button("Ləğv et / Cancel", async () => {
        const response = await send("POST", `/api/v1/tickets/${ticket.id}/cancel`, { reason: reason.value });
        done(response.ok ? `${ticket.label}: ləğv edildi / cancelled` : `${ticket.label}: ${await problem(response)}`,
          response.ok);
      }, "danger"));
    }
    return box;
  }

  // A search box for today's tickets in ``container``; ``changed()`` after an action succeeded.
  function finder(container, changed) {
    const input = el("input", { name: "label", autocomplete: "off", placeholder: "A-007",
      "aria-label": "Bilet nömrəsi / Ticket number", maxlength: "12", required: "" });
    const result = el("div", { class: "ticket-found", "aria-live": "polite" });
    async function find(event) {
      event.preventDefault();
      const response = await fetch(`/api/v1/tickets?label=${encodeURIComponent(input.value)}`,
        { credentials: "same-origin" });
      if (!response.ok) { result.replaceChildren(el("p", { class: "problem", text: await problem(response) })); return; }
      show(await response.json());
    }
    function show(ticket, message, ok) {
      result.replaceChildren(
        el("p", {}, el("strong", { text: ticket.label }), ` · ${ticket.service.name.az || ticket.service.code} · `,
          el("span", { class: "ticket-state", text: STATE[ticket.state] || ticket.state }),
          ticket.counter ? ` · ${ticket.counter}` : ""),
        message ? el("p", { class: ok ? "done" : "problem", text: message }) : null,
        actionsFor(ticket, async (text, succeeded) => {
          const again = await fetch(`/api/v1/tickets?label=${encodeURIComponent(ticket.label)}`, { credentials: "same-origin" });
          show(again.ok ? await again.json() : ticket, text, succeeded);
          if (succeeded && changed) changed();
        }));
    }
    container.replaceChildren(
      el("h2", { text: "Bilet tap / Find a ticket" }),
      el("form", { class: "ticket-search", onsubmit: find }, input,
        el("button", { type: "submit", text: "Tap / Find" })),
      result);
  }

  return { actionsFor, finder };
})();
