// What every screen's script shares: building the DOM with textContent only, the CSRF
// token of the page, JSON requests, filling {name} slots of a translated text, and the staff
// pages' texts in the page's language (the #staff-text data block, from server/web/language.py).
// screen.html loads it before each page's own script, as window.dostq.
"use strict";

window.dostq = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      // Handlers are listeners, never attributes: the CSP forbids inline script.
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
    return node;
  }
  function button(text, onclick, cls) {
    return el("button", { type: "button", class: cls || "", text, onclick });
  }
  // A same-origin request with the CSRF header; a body goes as JSON.
  function send(method, url, body, headers) {
    return fetch(url, {
      method, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(headers || {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  }
  function fill(text, values) {
    for (const [name, value] of Object.entries(values || {})) text = text.replaceAll(`{${name}}`, value);
    return text;
  }
  const textBlock = document.getElementById("staff-text");
  const texts = textBlock ? JSON.parse(textBlock.textContent) : {};
  const language = document.documentElement.lang || "az";
  // A staff text by key; a missing key shows as itself (tests/test_language.py keeps it from shipping).
  function t(key, values) {
    return fill(texts[key] ?? key, values);
  }
  // A name given in az/ru/en (a service's, an area's): the page's language, else Azerbaijani.
  function named(names) {
    return (names && (names[language] || names.az)) || "";
  }
  // Why the server refused, as a sentence in the page's language: the field's own sentence,
  // else the code's, else a general one with the HTTP status. Never the server's raw text (a
  // schema's regex, a library's message, in English): tests/test_staff_words.py holds to it.
  function refusal(error, status) {
    const { code, field, detail } = error || {};
    for (const key of [`error.${code}.${field}`, `error.${code}`]) {
      if (texts[key] !== undefined) return fill(texts[key], detail || {});
    }
    return fill(texts["error.unexplained"] ?? "", { status: status || "" });
  }
  // The same, read from a refused response (its JSON body, if it has one).
  async function refused(response) {
    const body = await response.json().catch(() => ({}));
    return refusal(body.error, response.status);
  }
  // A time of day (epoch seconds) as the center's clock reads it, 24-hour, whatever zone the
  // browser's PC was set to: the floor drew 04:06 PM beside the server's 20:06.
  const zone = (document.querySelector('meta[name="timezone"]') || {}).content || undefined;
  const timeOfDay = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit",
    hourCycle: "h23", timeZone: zone });
  function clock(epoch) {
    return timeOfDay.format(new Date(epoch * 1000));
  }
  return { el, button, send, fill, t, named, language, refusal, refused, clock };
})();
