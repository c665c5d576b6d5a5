// Ticket actions where staff stand (the floor, the counter page): find today's ticket by its
// number, then reprint it or cancel it with a reason. One module for both pages, loaded after
// screen.js; each page gives it a container and says what to do once something changed.
"use strict";

window.dostq.ticketActions = (function () {
  const { el, button, send, t, named } = window.dostq;
  const REASONS = ["visitor_left", "not_printed", "duplicate", "wrong_service"];
  const CANCELLABLE = ["issued", "waiting", "on_hold"];
  const REPRINTABLE = ["issued", "waiting"];

  // Why the server refused, in the page's language (screen.js's one mapping).
  function problem(response) {
    return window.dostq.refused(response);
  }

  // The buttons for one ticket: reprint, and cancel with a reason; ``done(message)`` after each.
  function actionsFor(ticket, done) {
    const box = el("span", { class: "ticket-actions" });
    if (REPRINTABLE.includes(ticket.state)) {
      box.append(button(t("actions.reprint"), async () => {
        const response = await send("POST", `/api/v1/tickets/${ticket.id}/reprint`);
        done(response.ok ? t("actions.reprinted", { label: ticket.label })
          : `${ticket.label}: ${await problem(response)}`, response.ok);
      }));
    }
    if (CANCELLABLE.includes(ticket.state)) {
      const reason = el("select", { "aria-label": t("actions.reason_for", { label: ticket.label }) },
        ...REASONS.map((value) => el("option", { value, text: t(`actions.reason.${value}`) })));
      box.append(reason, button(t("actions.cancel"), async () => {
        const response = await send("POST", `/api/v1/tickets/${ticket.id}/cancel`, { reason: reason.value });
        done(response.ok ? t("actions.cancelled", { label: ticket.label }) : `${ticket.label}: ${await problem(response)}`,
          response.ok);
      }, "danger"));
    }
    return box;
  }

  // A search box for today's tickets in ``container``; ``changed()`` after an action succeeded.
  function finder(container, changed) {
    const input = el("input", { name: "label", autocomplete: "off", placeholder: "A-007",
      "aria-label": t("actions.ticket_number"), maxlength: "12", required: "" });
    const result = el("div", { class: "ticket-found", "aria-live": "polite" });
    async function find(event) {
      event.preventDefault();
      const response = await fetch(`/api/v1/tickets?label=${encodeURIComponent(input.value)}`,
        { credentials: "same-origin" });
      if (!response.ok) { result.replaceChildren(el("p", { class: "problem", text: await problem(response) })); return; }
      show(await response.json());
    }
    function show(ticket, message, ok) {
      // replaceChildren() writes a null child as the text "null": only what there is goes in.
      result.replaceChildren(...[
        el("p", {}, el("strong", { text: ticket.label }), ` · ${named(ticket.service.name) || ticket.service.code} · `,
          el("span", { class: "ticket-state", text: t(`ticket.state.${ticket.state}`) }),
          ticket.print_status === "failed" ? el("span", { class: "not-printed", text: ` · ${t("actions.not_printed")}` }) : "",
          ticket.counter ? ` · ${ticket.counter}` : ""),
        message ? el("p", { class: ok ? "done" : "problem", text: message }) : null,
        actionsFor(ticket, async (text, succeeded) => {
          const again = await fetch(`/api/v1/tickets?label=${encodeURIComponent(ticket.label)}`, { credentials: "same-origin" });
          show(again.ok ? await again.json() : ticket, text, succeeded);
          if (succeeded && changed) changed();
        })].filter(Boolean));
    }
    container.replaceChildren(
      el("h2", { text: t("actions.find") }),
      el("form", { class: "ticket-search", onsubmit: find }, input,
        el("button", { type: "submit", text: t("actions.find_button") })),
      result);
  }

  return { actionsFor, finder };
})();
