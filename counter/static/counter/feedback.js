// The feedback tablet on a counter's desk. When the clerk finishes a visit the server sends
// feedback_wanted (this counter's room only); the tablet asks in the visitor's language, one
// tap on a face rates, reasons may follow; after ASK_S without a tap, or THANKS_S after the
// answer, it rests again. A rating can be changed on the visitor's phone for 30 minutes.
"use strict";
(() => {
  const { send, fill } = window.dostq;
  const ASK_S = 60;
  const THANKS_S = 8;
  const texts = JSON.parse(document.getElementById("tablet-text").textContent);
  const root = document.getElementById("tablet");
  const ask = document.getElementById("ask");
  const idle = document.getElementById("idle");
  const thanks = document.getElementById("thanks");
  const reasons = document.getElementById("reasons");
  const faces = [...ask.querySelectorAll(".face")];
  let visit = null;
  let timer = null;

  function rest() {
    visit = null;
    ask.hidden = true;
    idle.hidden = false;
    thanks.textContent = "";
    root.dataset.state = "idle";
  }
  function later(seconds) {
    clearTimeout(timer);
    timer = setTimeout(rest, seconds * 1000);
  }
  function show(wanted) {
    visit = wanted;
    const words = texts[wanted.language] || texts.az;
    const t = (key, values) => fill(words[key] || key, values);
    document.documentElement.lang = wanted.language;
    document.getElementById("label").textContent = wanted.label;
    document.getElementById("question").textContent = t("feedback.question");
    document.getElementById("why").textContent = t("feedback.why");
    document.getElementById("send").textContent = t("feedback.send");
    for (const face of faces) {
      face.setAttribute("aria-label", t(`feedback.face.${face.dataset.rating}`));
      face.setAttribute("aria-pressed", "false");
      face.disabled = false;
    }
    for (const span of reasons.querySelectorAll("[data-reason]")) span.textContent = t(`feedback.reason.${span.dataset.reason}`);
    for (const box of reasons.querySelectorAll("input")) box.checked = false;
    reasons.hidden = true;
    thanks.textContent = "";
    idle.hidden = true;
    ask.hidden = false;
    root.dataset.state = "asking";
    visit.t = t;
    later(ASK_S);
  }
  async function rate(rating) {
    if (!visit) return;
    const chosen = [...reasons.querySelectorAll("input:checked")].map((box) => box.value);
    const response = await send("POST", "/api/v1/feedback", { ticket_id: visit.ticket_id, rating, reasons: chosen });
    if (!response.ok) { rest(); return; } // too late, or not this counter's: nothing to ask
    visit.rating = rating;
    for (const face of faces) face.setAttribute("aria-pressed", String(Number(face.dataset.rating) === rating));
    reasons.hidden = false;
    thanks.textContent = visit.t("feedback.thanks");
    root.dataset.state = "rated";
    later(THANKS_S * 2); // time to name a reason
  }
  for (const face of faces) face.addEventListener("click", () => rate(Number(face.dataset.rating)));
  document.getElementById("send").addEventListener("click", async () => {
    if (visit && visit.rating) await rate(visit.rating);
    later(THANKS_S);
  });

  const socket = io({ transports: ["websocket"] });
  socket.on("feedback_wanted", show);
})();
