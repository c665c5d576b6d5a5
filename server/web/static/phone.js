// The visitor's phone page (the ticket's QR code): kept current over Socket.IO in the ticket's
// own room (the token is the key) at the center, over server-sent events at HQ (which relays
// the center's word, and says how old it is), or by asking every 15 s where neither gets through.
// A call vibrates and chimes where the phone allows; "your turn is near" shows a few places
// before; the visitor can leave the queue, after saying so twice. Once the visit is done, one
// tap on a face rates it; reasons and a comment may follow, changeable for 30 minutes.
"use strict";
(() => {
  const { el, send, t } = window.dostq;
  const root = document.getElementById("phone");
  const urls = root.dataset;
  const near = Number(root.dataset.near);
  const box = document.getElementById("status");
  const cancel = document.getElementById("cancel");
  const confirm = document.getElementById("cancel-confirm");
  const chime = root.dataset.chimeUrl ? new Audio(root.dataset.chimeUrl) : null;
  const asked = document.getElementById("asked");
  const heard = document.getElementById("heard");
  const LEAVABLE = ["issued", "waiting", "on_hold"];
  let shown = null;

  function render(status) {
    const queued = ["issued", "waiting"].includes(status.state);
    const parts = queued ? [
      el("p", { class: "state" }, `${t("phone.ahead")} `, el("strong", { id: "ahead", text: String(status.people_ahead) })),
      // "Estimated wait: 0 min" said nothing the "near" line does not say better.
      status.estimated_wait_min
        ? el("p", { class: "muted", text: t("phone.wait", { minutes: status.estimated_wait_min,
          low: status.estimated_wait_range_min[0], high: status.estimated_wait_range_min[1] }) }) : null,
      status.people_ahead <= near ? el("p", { class: "near", text: t("phone.near") }) : null,
    ] : status.state === "called"
      ? [el("p", { class: "state called", text: t("phone.called", { counter: status.counter }) })]
      : [el("p", { class: "state", text: t(`phone.state.${status.state}`) })];
    box.replaceChildren(...parts.filter(Boolean));
    const calledAgain = status.state === "called"
      && (!shown || shown.state !== "called" || shown.called_at !== status.called_at);
    const nowNear = queued && status.people_ahead <= near && !(shown && shown.people_ahead <= near);
    if (calledAgain || (shown && nowNear)) {
      if (navigator.vibrate) navigator.vibrate(calledAgain ? [400, 200, 400, 200, 400] : [300]);
      if (calledAgain && chime) chime.play().catch(() => {}); // a phone may refuse sound without a tap
    }
    if (status.state === "done" && (!shown || shown.state !== "done")) showFeedback(status.feedback);
    else if (status.feedback && shown && !shown.feedback) {  // a rating made at HQ, now done
      applyGiven(status.feedback);
      note.textContent = t("feedback.thanks");
      asked.textContent = "";
    }
    cancel.hidden = !LEAVABLE.includes(status.state);
    if (cancel.hidden) confirm.hidden = true;
    if (shown && shown.state !== status.state) asked.textContent = "";  // the center did it
    root.dataset.state = status.state;
    shown = status;
  }

  // At HQ: the center's word and when it was said; past a minute and a half the center is
  // not being heard (offline, or HQ is), and the page says since when.
  const STALE_MS = 90000;
  let saidAt = Number(urls.heardAt) * 1000 || null;
  function showAge() {
    heard.hidden = !saidAt || Date.now() - saidAt < STALE_MS;
    if (!heard.hidden) heard.textContent = t("phone.heard_at", { time: window.dostq.clock(saidAt / 1000) });
  }
  function relayed(word) {
    saidAt = word.at * 1000;
    render(word.status);
    showAge();
  }
  // A request taken at HQ (202) is the center's to do: the page changes once it has.
  async function answered(response, onStatus) {
    const answer = await response.json().catch(() => ({}));
    if (response.status === 202) {
      asked.textContent = t("phone.asked");
      return null;
    }
    if (response.ok) onStatus(answer);
    return answer;
  }

  // ---- the rating, after the visit ------------------------------------------------------
  const feedback = document.getElementById("feedback");
  const faces = [...feedback.querySelectorAll(".face")];
  const details = document.getElementById("feedback-details");
  const note = document.getElementById("feedback-note");
  let rating = null;
  let closeTimer = null;

  function showFeedback(given) {
    feedback.hidden = false;
    if (given) applyGiven(given);
  }
  function applyGiven(given) {
    rating = given.rating;
    for (const face of faces) face.setAttribute("aria-pressed", String(Number(face.dataset.rating) === rating));
    for (const box of details.querySelectorAll("input[name=reasons]")) box.checked = given.reasons.includes(box.value);
    details.elements.comment.value = given.comment || "";
    details.hidden = false;
    // Past its 30 minutes the rating stays on show but can no longer change.
    clearTimeout(closeTimer);
    closeTimer = setTimeout(closeFeedback, Math.max(0, given.editable_until * 1000 - Date.now()));
  }
  function closeFeedback() {
    for (const control of feedback.querySelectorAll("button, input, textarea")) control.disabled = true;
    note.textContent = t("feedback.given", { rating });
  }
  async function rate(body) {
    const response = await send("POST", urls.feedbackUrl, body);
    if (response.status === 202) {
      await answered(response, () => {});
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      applyGiven(answer);
      note.textContent = t("feedback.thanks");
    } else {
      const code = answer.error && answer.error.code;
      note.textContent = code ? t(`error.${code}`) : t("phone.offline");
      if (code === "feedback_closed") closeFeedback();
    }
  }
  function detailsBody() {
    const reasons = [...details.querySelectorAll("input[name=reasons]:checked")].map((box) => box.value);
    const comment = details.elements.comment.value.trim();
    return { reasons, comment: comment || null };
  }
  for (const face of faces) {
    face.addEventListener("click", () => rate({ rating: Number(face.dataset.rating), ...detailsBody() }));
  }
  details.addEventListener("submit", (event) => {
    event.preventDefault();
    if (rating !== null) rate({ rating, ...detailsBody() });
  });
  if (feedback.dataset.editableUntil) {
    applyGiven({
      rating: Number(feedback.querySelector(".face[aria-pressed=true]").dataset.rating),
      reasons: [...details.querySelectorAll("input[name=reasons]:checked")].map((box) => box.value),
      comment: details.elements.comment.value,
      editable_until: Number(feedback.dataset.editableUntil),
    });
  }

  const smsForm = document.getElementById("sms");
  if (smsForm) {
    smsForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await send("POST", urls.smsUrl, { phone: smsForm.elements.phone.value, language: urls.language });
      const answer = await response.json().catch(() => ({}));
      const code = answer.error && answer.error.code;
      document.getElementById("sms-note").textContent = response.ok
        ? t("phone.sms_set", { to: answer.sms_to }) : code ? t(`error.${code}`) : t("phone.offline");
      if (response.ok) smsForm.hidden = true;
    });
  }

  let live = () => false;
  if (urls.eventsUrl) {
    const source = new EventSource(urls.eventsUrl);
    source.addEventListener("message", (event) => relayed(JSON.parse(event.data)));
    live = () => source.readyState === EventSource.OPEN;
    setInterval(showAge, 10000);
    showAge();
  } else {
    const socket = io({ auth: { ticket_token: urls.socketToken } });
    socket.on("ticket_status", render);
    live = () => socket.connected;
  }
  setInterval(async () => {
    if (live()) return;
    const response = await fetch(urls.statusUrl).catch(() => null);
    if (!response || !response.ok) return;
    const word = await response.json();
    if (urls.eventsUrl) relayed(word); else render(word);
  }, 15000);

  document.getElementById("cancel-ask").addEventListener("click", () => {
    confirm.hidden = false;
    document.getElementById("cancel-no").focus();
  });
  document.getElementById("cancel-no").addEventListener("click", () => { confirm.hidden = true; });
  document.getElementById("cancel-yes").addEventListener("click", async () => {
    const response = await send("POST", urls.cancelUrl);
    const answer = await answered(response, render);
    if (answer && answer.error) asked.textContent = t(`error.${answer.error.code}`);
    confirm.hidden = true;
  });
})();
