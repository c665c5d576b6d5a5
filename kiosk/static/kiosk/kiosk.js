// The visitor's kiosk: area → service → (priority) → ticket, in az / ru / en.
// Every text comes from i18n/<lang>.json; the DOM is built with textContent only.
"use strict";

(function () {
  const root = document.getElementById("kiosk");
  const offline = document.getElementById("offline");
  const { el, send, fill } = window.dostq;
  const deviceName = root.dataset.device;
  const idleMs = Number(root.dataset.idleS) * 1000;
  // The standard Azerbaijani, Russian and English layouts (all 32 Azerbaijani letters).
  const KEYBOARD = {
    az: ["qüertyuiopöğ", "asdfghjklıə", "zxcvbnmçş"],
    ru: ["йцукенгшщзх", "фывапролджэ", "ячсмитьбю"],
    en: ["qwertyuiop", "asdfghjkl", "zxcvbnm"],
  };
  const texts = {};
  let lang = "az";
  let catalog = null;
  let printerProblem = false;
  let idleTimer = null;
  let drawnTitle = null; // the heading of the screen on show
  let current = { screen: "home" };
  // A print result can come before the ticket screen is drawn: keep them by ticket id.
  const printResults = new Map();

  function t(key, values) {
    return fill((texts[lang] && texts[lang][key]) || key, values);
  }
  function name(names) {
    return names[lang] || names.az;
  }
  function button(label, onclick, cls) {
    return window.dostq.button(label, onclick, cls || "tile");
  }

  async function loadTexts(language) {
    if (!texts[language]) {
      const response = await fetch(`${root.dataset.i18nUrl}${language}.json`);
      texts[language] = await response.json();
    }
  }
  async function loadCatalog() {
    const response = await fetch(root.dataset.stateUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`state ${response.status}`);
    catalog = await response.json();
  }

  // A loudspeaker drawn, not the emoji: a kiosk PC with no emoji font showed an empty box.
  function speakerIcon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M3 9v6h4l5 4V5L7 9H3zm13.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z");
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  // ---- screens --------------------------------------------------------------------------
  function chrome(title, body, withNavigation) {
    const languages = el("nav", { class: "languages" },
      ...["az", "ru", "en"].map((code) => {
        const choice = button(code.toUpperCase(), () => setLanguage(code), `lang${code === lang ? " active" : ""}`);
        // Spoken as the language's name, a phrase the kiosk may say ("RU" was a 404: silence).
        choice.dataset.speak = t(`language_${code}`);
        return choice;
      }));
    // In all three languages: a visitor who cannot read the screen cannot pick one first.
    const listen = el("button", { type: "button", class: "listen", "aria-pressed": String(guided),
      "data-speak": t("listen"), onclick: toggleGuidance }, speakerIcon(), " ",
      el("span", { lang: "az", text: "Dinlə" }), " · ", el("span", { lang: "ru", text: "Слушать" }),
      " · ", el("span", { lang: "en", text: "Listen" }));
    const access = el("div", { class: "access" },
      // Sizes are in rem, so large text scales the root element.
      button(t("large_text"), () => document.documentElement.classList.toggle("large"), "small"),
      button(t("contrast"), () => document.body.classList.toggle("contrast"), "small"),
      button(t("low_reach"), () => document.body.classList.toggle("low-reach"), "small"));
    const navigation = withNavigation ? el("nav", { class: "navigation" },
      button(`← ${t("back")}`, back, "nav"), button(t("home"), home, "nav")) : null;
    const help = button(t("assistance"), requestAssistance, "assistance");
    // Where focus goes (WCAG 2.4.3): the same screen drawn again (a key of the on-screen
    // keyboard) keeps it on the same button; a new screen puts it on its heading, so a
    // keyboard or screen-reader user starts there instead of at the top of the page.
    const focused = root.contains(document.activeElement) ? document.activeElement : null;
    const sameScreen = focused && drawnTitle === title;
    const again = sameScreen ? focused.textContent : null;
    const heading = el("h1", { text: title, tabindex: "-1" });
    root.replaceChildren(
      el("header", {}, el("span", { class: "center", text: catalog ? catalog.center : "" }),
        listen, languages),
      el("section", { class: "content" }, heading, body),
      el("footer", {}, navigation, help, access));
    const same = again && [...root.querySelectorAll("button")].find((b) => b.textContent === again);
    if (same) same.focus();
    else if (focused || drawnTitle !== null) heading.focus({ preventScroll: true });
    drawnTitle = title;
  }

  function home() {
    current = { screen: "home" };
    const tiles = el("div", { class: "grid areas" }, ...catalog.areas.map((area) =>
      el("button", { class: "tile area", type: "button", onclick: () => showArea(area) },
        el("span", { class: "letter", text: area.letter }),
        el("span", { class: "name", text: name(area.name) }))));
    // Closed (before opening, after the last ticket, a holiday): said first, in words.
    const closed = catalog.opens_at ? el("p", { class: "closed-notice", id: "closed-notice",
      role: "status", text: closedSentence() }) : null;
    chrome(t("choose_area"), el("div", {}, closed, tiles,
      button(t("search"), showSearch, "tile search"),
      catalog.bookings ? button(t("have_booking"), () => showCheckIn(""), "tile booking") : null),
      false);
  }

  // ---- a booking made at HQ -------------------------------------------------------------
  // The visitor types the code on this keyboard (base32: letters and 2-7; 0, 1 and 8 are
  // read as O, I and B), or holds the QR to a USB scanner, which types it and presses Enter
  // (see `scanned` below). The server checks the code offline (server/queue/appointments.py).
  const CODE_KEYS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"];
  function grouped(code) {
    return code.replace(/[^0-9A-Za-z]/g, "").toUpperCase().replace(/(.{4})(?=.)/g, "$1-");
  }
  function showCheckIn(code, refusal) {
    current = { screen: "checkin", code };
    const field = el("output", { class: "query code", id: "booking-code",
      text: code ? grouped(code) : t("booking_hint") });
    const keys = el("div", { class: "keyboard" }, ...CODE_KEYS.map((row) =>
      el("div", { class: "row" }, ...Array.from(row).map((key) =>
        button(key, () => showCheckIn((current.code + key).slice(0, 40)), "key")))),
      el("div", { class: "row" },
        button("⌫", () => showCheckIn(current.code.slice(0, -1)), "key"),
        button(t("check_in"), () => checkIn(current.code), "key check-in")));
    const why = refusal ? el("div", { class: "refusal", role: "alert" },
      el("p", { id: "checkin-refusal", text: refusal }),
      button(t("walk_in_instead"), home, "tile general")) : null;
    chrome(t("have_booking"), el("div", {}, why, field, keys), true);
  }

  async function checkIn(code) {
    if (code.replace(/[^0-9A-Za-z]/g, "").length < 20 && !code.includes("/")) {
      return showCheckIn(code, t("checkin_not_a_booking_code"));
    }
    for (const node of root.querySelectorAll("button")) node.disabled = true;
    const key = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    let response;
    try {
      response = await send("POST", "/api/v1/checkins", { code, language: lang },
        { "Idempotency-Key": key });
    } catch (error) {
      return showMessage(t("error"));
    }
    if (response.status === 429) return showMessage(t("too_many"));
    if (!response.ok) {
      const refusal = ((await response.json().catch(() => ({}))).error) || {};
      const known = texts[lang] && texts[lang][`checkin_${refusal.code}`];
      return showCheckIn(code, known ? t(`checkin_${refusal.code}`, refusal.detail || {})
        : t("error"));
    }
    const ticket = await response.json();
    showTicket(ticket, ticket.service);
  }

  function serviceButton(service) {
    const offered = service.counters > 0 && !catalog.opens_at;
    const note = catalog.opens_at ? t("opens_at", { time: catalog.opens_at })
      : service.counters === 0 ? t("not_offered")
      : service.open === 0 ? t("counters_closed") : "";
    const node = el("button", { class: "tile service", type: "button",
      onclick: () => chooseService(service) },
      el("span", { class: "name", text: name(service.name) }),
      note ? el("span", { class: "note", text: note }) : null);
    if (!offered) node.disabled = true;
    return node;
  }

  // A long list shows `size` at a time, with large buttons to page: every item reachable by
  // touch, none below the fold. `page` is kept in `current` so a redraw stays on it.
  function paged(items, size) {
    const pages = Math.max(1, Math.ceil(items.length / size));
    const page = Math.min(current.page || 0, pages - 1);
    const list = el("div", { class: "list" }, ...items.slice(page * size, (page + 1) * size));
    if (pages === 1) return list;
    const turn = (to) => () => { current.page = to; redraw(); };
    const previous = button(t("previous"), turn(page - 1), "nav page-previous");
    const next = button(t("next"), turn(page + 1), "nav page-next");
    previous.disabled = page === 0;
    next.disabled = page === pages - 1;
    // Each button is named after the page it opens (a disabled one, after this page).
    const label = (to) => t("page", { n: (to >= 0 && to < pages ? to : page) + 1, of: pages });
    previous.setAttribute("aria-label", label(page - 1));
    next.setAttribute("aria-label", label(page + 1));
    return el("div", {}, list, el("nav", { class: "pager" }, previous,
      el("span", { class: "page", text: t("page", { n: page + 1, of: pages }) }), next));
  }

  function showArea(area, page) {
    current = { screen: "area", area, page: page || 0 };
    // The most used services of the last 30 days first; the catalog's order breaks ties.
    const services = area.services.map((service, i) => ({ service, i }))
      .sort((a, b) => (b.service.uses - a.service.uses) || (a.i - b.i))
      .map(({ service }) => serviceButton(service));
    chrome(name(area.name), paged(services, 6), true);
  }

  let searchSeq = 0;
  async function showSearch(query, page) {
    const text = typeof query === "string" ? query : "";
    current = { screen: "search", query: text, page: page || 0, codes: [] };
    drawSearch();
    if (!text.trim()) return;
    const seq = ++searchSeq;
    const response = await fetch(`${root.dataset.searchUrl}?q=${encodeURIComponent(text)}` +
      `&lang=${lang}`);
    if (seq !== searchSeq || current.screen !== "search" || !response.ok) return;
    current.codes = (await response.json()).services;
    current.searched = true;
    drawSearch();
  }

  function drawSearch() {
    const byCode = new Map(catalog.areas.flatMap((area) => area.services)
      .map((service) => [service.code, service]));
    const matches = current.codes.map((code) => byCode.get(code)).filter(Boolean);
    const field = el("output", { class: "query", text: current.query || t("search_hint") });
    const keys = el("div", { class: "keyboard" }, ...KEYBOARD[lang].map((row) =>
      el("div", { class: "row" }, ...Array.from(row).map((key) =>
        button(key, () => showSearch(current.query + key), "key")))),
      el("div", { class: "row" },
        button("␣", () => showSearch(`${current.query} `), "key space"),
        button("⌫", () => showSearch(current.query.slice(0, -1)), "key")));
    const results = current.searched && matches.length === 0
      ? el("p", { text: t("no_results") }) : paged(matches.map(serviceButton), 4);
    chrome(t("search"), el("div", {}, field, results, keys), true);
  }

  function chooseService(service) {
    // One key per choice: a double tap (or a retry after a timeout) cannot issue twice.
    const key = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    // What to bring, before the ticket is taken: the visitor can still go and fetch it.
    const documents = name(service.documents || {});
    const bring = [
      // Said before the ticket is taken: the hall's replay calls its turn after closing.
      service.not_today ? el("p", { class: "not-today", id: "not-today", role: "alert", text: t("not_today") }) : null,
      documents ? el("p", { class: "bring", text: t("bring", { d: documents }) }) : null,
    ].filter(Boolean);
    current = { screen: "priority", service, from: current };
    if (catalog.priority_categories.length === 0) {
      if (!bring.length) return issue(service, null, key);
      return chrome(name(service.name), el("div", { class: "list" }, ...bring,
        button(t("take_ticket"), () => issue(service, null, key), "tile general")), true);
    }
    const choices = catalog.priority_categories.map((category) =>
      button(name(category.name), () => issue(service, category.code, key), "tile priority"));
    chrome(t("priority_question"), el("div", { class: "list" }, ...bring,
      button(t("priority_no"), () => issue(service, null, key), "tile general"), ...choices), true);
  }

  async function issue(service, category, key) {
    for (const node of root.querySelectorAll("button")) node.disabled = true;
    const body = { service: service.code, language: lang };
    if (category) body.category = category;
    let response;
    try {
      response = await send("POST", "/api/v1/tickets", body, { "Idempotency-Key": key });
    } catch (error) {
      return showMessage(t("error"));
    }
    if (response.status === 429) return showMessage(t("too_many"));
    if (!response.ok) return showRefusal(response);
    showTicket(await response.json(), service);
  }

  // A refusal in the visitor's words: the kiosk learns why (closed since the screen was
  // drawn, a service closed meanwhile) and redraws with what is true now.
  async function showRefusal(response) {
    const refusal = ((await response.json().catch(() => ({}))).error) || {};
    await loadCatalog().catch(() => {});
    if (refusal.code === "closed") return showMessage(closedSentence());
    const key = `refused_${refusal.code}`;
    showMessage(texts[lang] && texts[lang][key] ? t(key) : t("error"));
  }

  function closedSentence() {
    if (!catalog || !catalog.opens_at) return t("error");
    if (catalog.holiday) return t("closed_holiday", { name: catalog.holiday, time: catalog.opens_at });
    return t(catalog.opens_today ? "opens_at" : "closed_today", { time: catalog.opens_at });
  }

  function showTicket(ticket, service) {
    current = { screen: "ticket", ticket };
    const status = el("p", { class: "print-status", id: "print-status",
      text: ticket.print_status === "none" ? t("no_print")
        : printerProblem ? t("printer_problem") : t("printing") });
    if (printerProblem) status.classList.add("problem");
    // The estimate with its band ("about 20 min (15–25)"): a promise kept more often than a point.
    const [low, high] = ticket.estimated_wait_range_min || [0, 0];
    const wait = ticket.estimated_wait_min ? t("wait", { m: ticket.estimated_wait_min, low, high })
      : t("no_wait");
    chrome(t("your_number"), el("div", { class: "ticket" },
      el("p", { class: "number", id: "ticket-number", text: ticket.label }),
      el("p", { class: "service", text: name(service.name) }),
      // A booking is called at its time, not after the line ahead of it: say that instead.
      ...(ticket.appointment
        ? [el("p", { class: "appointment", text: t("booked_for", { time: ticket.appointment.slot }) })]
        : [el("p", { text: t("ahead", { n: ticket.people_ahead }) }), el("p", { text: wait })]),
      status,
      el("figure", {}, el("img", { src: `/t/${ticket.token}/qr.svg`, alt: "QR" }),
        el("figcaption", { text: t("scan_qr") })),
      // Through HQ, which sends it: one SMS when three are ahead, one when called.
      ticket.sms_to ? el("p", { class: "sms-set", id: "sms-set", text: t("sms_set", { to: ticket.sms_to }) })
        : catalog.sms && !ticket.appointment ? button(t("sms_ask"), () => showSms(ticket, service, ""), "tile sms") : null,
      button(t("done"), home, "tile done")), false);
    say(ticket.appointment
      ? t("booking_spoken", { label: ticket.label, time: ticket.appointment.slot })
      : t("ticket_spoken", { label: ticket.label, n: ticket.people_ahead }), true);
    restartIdle(printerProblem ? 3 * idleMs : idleMs);
    if (printResults.has(ticket.id)) showPrintResult(printResults.get(ticket.id));
  }

  // A mobile number for the ticket's SMS, typed on the screen's own keys.
  function showSms(ticket, service, number, refusal) {
    current = { screen: "sms", ticket, service, number };
    const field = el("output", { class: "query code", id: "sms-number", text: number || "+994 …" });
    const keys = el("div", { class: "keyboard" }, ...["123", "456", "789"].map((row) =>
      el("div", { class: "row" }, ...Array.from(row).map((key) =>
        button(key, () => showSms(ticket, service, (number + key).slice(0, 13)), "key")))),
      el("div", { class: "row" },
        button("⌫", () => showSms(ticket, service, number.slice(0, -1)), "key"),
        button("0", () => showSms(ticket, service, (number + "0").slice(0, 13)), "key"),
        button(t("sms_send"), () => leaveNumber(ticket, service, number), "key check-in")));
    const why = refusal ? el("p", { class: "refusal", role: "alert", id: "sms-refusal", text: refusal }) : null;
    chrome(t("sms_title"), el("div", {}, el("p", { text: t("sms_kept") }), why, field, keys,
      button(t("back"), () => showTicket(ticket, service), "tile")), false);
    restartIdle(idleMs);
  }

  async function leaveNumber(ticket, service, number) {
    let response;
    try {
      response = await send("POST", `/api/v1/tickets/${ticket.id}/sms`, { phone: number });
    } catch (error) {
      return showSms(ticket, service, number, t("error"));
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const code = answer.error && answer.error.code;
      return showSms(ticket, service, number, t(code === "bad_phone" ? "sms_bad" : "error"));
    }
    showTicket({ ...ticket, sms_to: answer.sms_to }, service);
  }

  function showMessage(text) {
    current = { screen: "message" };
    chrome(text, el("div", {}, button(t("home"), home, "tile done")), false);
  }

  function back() {
    const from = current.from;
    if (current.screen === "priority") return from.screen === "search"
      ? showSearch(from.query, from.page) : showArea(from.area, from.page);
    home();
  }

  function redraw() {
    if (current.screen === "area") return showArea(current.area, current.page);
    if (current.screen === "search") return drawSearch();
    if (current.screen === "checkin") return showCheckIn(current.code);
    home();
  }

  async function requestAssistance() {
    const response = await send("POST", "/api/v1/assistance");
    showMessage(response.ok ? t("assistance_sent") : t("error"));
  }

  async function setLanguage(code) {
    await loadTexts(code);
    lang = code;
    document.documentElement.lang = code;
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
    ({ home, area: () => showArea(current.area), search: () => showSearch(current.query),
      priority: () => chooseService(current.service),
      checkin: () => showCheckIn(current.code) }[current.screen] || home)();
  }

  // ---- spoken guidance ------------------------------------------------------------------
  // For a blind or low-vision visitor: the Listen button (or the * key of a USB keypad) turns
  // it on; each new screen's heading is spoken, then each choice as focus reaches it; the
  // arrow keys move between choices and Enter chooses. The clips are made on the center
  // (kiosk/speech.py, espeak-ng), in the visitor's language, and played in order.
  let guided = false;
  const voice = new Audio();
  let queue = [];
  function playNext() {
    const text = queue.shift();
    if (!text) return;
    voice.src = `${root.dataset.speechUrl}?${new URLSearchParams({ lang, text })}`;
    voice.play().catch(playNext); // a phrase that cannot play is skipped, not a stuck queue
  }
  voice.addEventListener("ended", playNext);
  // A visitor listening is still there: the idle time counts from the end of each phrase.
  voice.addEventListener("playing", () => restartIdle());
  voice.addEventListener("ended", () => restartIdle());
  voice.addEventListener("error", playNext);
  function say(text, after) {
    if (!guided || !text) return;
    if (after && (!voice.paused || queue.length)) { queue.push(text); return; }
    queue = [text];
    playNext();
  }
  function spoken(node) {
    if (node.dataset && node.dataset.speak) return node.dataset.speak;
    const label = node.querySelector && node.querySelector(".name");
    return (label || node).textContent.replace(/[←◀▶]/g, " ").trim();
  }
  function toggleGuidance() {
    guided = !guided;
    document.body.classList.toggle("guided", guided);
    for (const node of root.querySelectorAll(".listen")) node.setAttribute("aria-pressed", String(guided));
    if (!guided) { queue = []; voice.pause(); return; }
    say(t("guidance_on"));
    const heading = root.querySelector("h1");
    if (heading) say(heading.textContent, true);
  }
  root.addEventListener("focusin", (event) => say(spoken(event.target)));
  function moveFocus(step) {
    // The screen's choices first, then the footer (back, help, display modes), then the header.
    const choices = ["section.content", "footer", "header"].flatMap((part) =>
      [...root.querySelectorAll(`${part} button:not([disabled])`)]);
    const at = choices.indexOf(document.activeElement);
    const next = at < 0 ? (step > 0 ? 0 : choices.length - 1)
      : (at + step + choices.length) % choices.length;
    if (choices[next]) choices[next].focus();
  }
  // A USB barcode scanner is a keyboard that types a whole code, then Enter, within a few
  // milliseconds a key. Keys that come that fast are gathered; Enter after a code's worth of
  // them checks it in, from whichever screen is on show. A person typing is slower: their
  // keys start the gathering afresh.
  const SCAN_GAP_MS = 80;
  let scanned = "";
  let lastKeyAt = 0;
  document.addEventListener("keydown", (event) => {
    const now = performance.now();
    if (now - lastKeyAt > SCAN_GAP_MS) scanned = "";
    lastKeyAt = now;
    if (event.key === "Enter" && scanned.replace(/[^0-9A-Za-z]/g, "").length >= 20 &&
        catalog && catalog.bookings) {
      event.preventDefault();
      const code = scanned;
      scanned = "";
      current = { screen: "checkin", code };
      checkIn(code);
      return;
    }
    if (event.key.length === 1) scanned = (scanned + event.key).slice(-300);
  }, { capture: true });
  document.addEventListener("keydown", (event) => {
    if (event.key === "*") { event.preventDefault(); toggleGuidance(); return; }
    // A physical keyboard types into the search too (only the on-screen one did): letters and
    // digits go to the query, Backspace takes one back; Space and Enter still press buttons.
    if (current.screen === "search" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (event.key.length === 1 && /[\p{L}\p{N}]/u.test(event.key)) {
        event.preventDefault();
        showSearch(current.query + event.key.toLocaleLowerCase(lang));
        return;
      }
      if (event.key === "Backspace") { event.preventDefault(); showSearch(current.query.slice(0, -1)); return; }
    }
    if (!guided) return;
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
    if (step) { event.preventDefault(); moveFocus(step); }
  });

  // ---- idle reset and live events -------------------------------------------------------
  // A visitor mid-choice is asked first (WCAG 2.2.1): the last WARN_S seconds of the idle time
  // show a question with a large "more time" button and a countdown; any touch or key answers
  // it. The ticket screen (the visit is done) and the home screen reset without asking.
  const WARN_S = Math.min(10, Math.round(idleMs / 3000));
  const warning = document.getElementById("idle-warning");
  let countdown = null;
  function goHome() {
    hideWarning();
    if (current.screen !== "home") {
      if (guided) toggleGuidance(); // an abandoned visit: the next visitor starts as usual
      lang = "az";
      document.documentElement.lang = "az";
      home();
    }
  }
  function hideWarning() {
    clearInterval(countdown);
    if (!warning.hidden) warning.hidden = true;
  }
  function warn() {
    let left = WARN_S;
    const seconds = document.getElementById("idle-seconds");
    seconds.textContent = t("idle_countdown", { seconds: left });
    warning.querySelector("[data-i18n=idle_question]").textContent = t("idle_question");
    const more = warning.querySelector("button");
    more.textContent = t("more_time");
    warning.hidden = false;
    more.focus();
    say(t("idle_question"));
    say(t("more_time"), true);
    countdown = setInterval(() => {
      left -= 1;
      seconds.textContent = t("idle_countdown", { seconds: left });
      if (left <= 0) goHome();
    }, 1000);
  }
  function restartIdle(ms) {
    clearTimeout(idleTimer);
    hideWarning();
    // Which screen is on show is judged when the time comes (a touch that starts a visit
    // lands while the home screen is still drawn).
    idleTimer = setTimeout(() => {
      if (WARN_S > 0 && !["home", "ticket"].includes(current.screen)) warn();
      else idleTimer = setTimeout(goHome, WARN_S * 1000);
    }, (ms || idleMs) - WARN_S * 1000);
  }
  warning.querySelector("button").addEventListener("click", () => restartIdle());
  // Any touch or key press is a visitor still there (a keyboard user too).
  for (const activity of ["pointerdown", "keydown"]) {
    document.addEventListener(activity, () => restartIdle(), { capture: true });
  }

  function onPrintResult(result) {
    if (result.device !== deviceName) return;
    printResults.set(result.ticket_id, result);
    showPrintResult(result);
  }
  function showPrintResult(result) {
    const status = document.getElementById("print-status");
    if (current.screen !== "ticket" || current.ticket.id !== result.ticket_id || !status) return;
    status.textContent = result.printed ? t("printed") : t("print_failed");
    status.classList.toggle("problem", !result.printed);
    if (!result.printed) restartIdle(3 * idleMs); // keep the number on screen longer
  }
  function onPrinterStatus(printer) {
    if (printer.device === deviceName) {
      printerProblem = !["ready", "paper_near_end"].includes(printer.state);
    }
  }

  const socket = io({ transports: ["websocket"] });
  socket.on("connect", () => { offline.hidden = true; });
  socket.on("disconnect", () => { offline.hidden = false; });
  socket.on("snapshot", (snapshot) => (snapshot.printers || []).forEach(onPrinterStatus));
  socket.on("printer_status", onPrinterStatus);
  socket.on("print_result", onPrintResult);
  // What is open changes with the clock too (opening, the last ticket, midnight): the kiosk
  // reads it again each minute and on every change, and redraws its home screen; a visitor
  // part-way through keeps their screen and meets the news at their next step.
  async function refreshCatalog() {
    try { await loadCatalog(); } catch (error) { return; }
    if (current.screen === "home") home();
  }
  socket.on("queue_changed", refreshCatalog);
  socket.on("counter_changed", refreshCatalog);
  setInterval(refreshCatalog, 60 * 1000);

  Promise.all([loadTexts("az"), loadCatalog()]).then(() => {
    setLanguage("az");
    restartIdle();
  }).catch(() => { offline.hidden = false; setTimeout(() => location.reload(), 5000); });
})();
