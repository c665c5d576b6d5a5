// Reception: a volunteer issues a ticket for a visitor (service, priority category, the
// visitor's language, the printer or none), checks in a visitor who booked at HQ by their
// code (same language and printer), and finds any ticket of today to tell its status.
"use strict";
(() => {
  const { el, send, t, named } = window.dostq;
  const form = document.getElementById("reception");
  const issued = document.getElementById("issued");
  const serviceSelect = form.elements.service;
  let services = []; // [code, "A · name"], in catalog order

  // The kiosk's own search (server/office/search.py): any language, marks optional, sh for ş,
  // by the start of each word, best first. A substring of its own here missed "ushaq".
  let searchSeq = 0;
  async function showServices(filter) {
    const wanted = (filter || "").trim();
    let shown = services;
    if (wanted) {
      const seq = ++searchSeq;
      const response = await fetch(`${form.dataset.searchUrl}?q=${encodeURIComponent(wanted)}&lang=${window.dostq.language}`);
      if (seq !== searchSeq || !response.ok) return;
      const byCode = new Map(services);
      shown = (await response.json()).services.filter((code) => byCode.has(code))
        .map((code) => [code, byCode.get(code)]);
    }
    serviceSelect.replaceChildren(...shown.map(([code, text]) => el("option", { value: code, text })));
  }

  // Post to `path` and show the ticket (or why not) in `output`; `line` says where it stands.
  async function take(path, body, output, line) {
    const key = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    const response = await send("POST", path, body, { "Idempotency-Key": key });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      output.replaceChildren(el("p", { class: "problem", text: window.dostq.refusal(data.error, response.status) }));
      return;
    }
    output.replaceChildren(
      el("p", { class: "number", text: data.label }),
      el("p", { text: `${named(data.service.name)} · ${line(data)}` }),
      el("p", { class: "muted", text: body.printer ? t("reception.printing_on", { printer: body.printer })
        : t("reception.write_down") }));
  }

  async function issue(event) {
    event.preventDefault();
    if (!serviceSelect.value) return;
    await take("/api/v1/reception/tickets", {
      service: serviceSelect.value, category: form.elements.category.value,
      language: form.elements.language.value, printer: form.elements.printer.value || null,
    }, issued, (data) => t("reception.ahead", { count: data.people_ahead }));
    issued.querySelector(".number")?.setAttribute("id", "issued-label");
  }

  const checkInForm = document.getElementById("check-in");
  async function checkIn(event) {
    event.preventDefault();
    await take("/api/v1/reception/checkins", {
      code: checkInForm.elements.code.value, language: form.elements.language.value,
      printer: form.elements.printer.value || null,
    }, document.getElementById("checked-in"),
    (data) => t("reception.booked_for", { time: data.appointment.slot }));
  }
  checkInForm.addEventListener("submit", checkIn);

  form.addEventListener("submit", issue);
  form.elements.find.addEventListener("input", (event) => showServices(event.target.value));
  fetch(form.dataset.catalogUrl, { credentials: "same-origin" }).then((r) => r.json()).then((catalog) => {
    services = catalog.areas.flatMap((area) => area.services.map((s) => [s.code,
      `${area.letter} · ${named(s.name)}`]));
    showServices("");
    const categories = form.elements.category;
    for (const c of catalog.priority_categories) categories.append(el("option", { value: c.code, text: named(c.name) }));
  });
  window.dostq.ticketActions.finder(document.getElementById("ticket-finder"));
})();
