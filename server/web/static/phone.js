// The visitor's phone page (the ticket's QR code): kept current over Socket.IO in the ticket's
// own room (the token is the key), or by asking every 15 s where sockets do not get through.
// A call vibrates and chimes where the phone allows; "your turn is near" shows a few places
// before; the visitor can leave the queue, after saying so twice.
"use strict";
(() => {
  const { el, send, t } = window.dostq;
  const root = document.getElementById("phone");
  const token = root.dataset.token;
  const near = Number(root.dataset.near);
  const box = document.getElementById("status");
  const cancel = document.getElementById("cancel");
  const confirm = document.getElementById("cancel-confirm");
  const chime = new Audio(root.dataset.chimeUrl);
  const LEAVABLE = ["issued", "waiting", "on_hold"];
  let shown = null;

  function render(status) {
    const queued = ["issued", "waiting"].includes(status.state);
    const parts = queued ? [
      el("p", { class: "state" }, `${t("phone.ahead")} `, el("strong", { id: "ahead", text: String(status.people_ahead) })),
      status.estimated_wait_min != null
        ? el("p", { class: "muted", text: t("phone.wait", { minutes: status.estimated_wait_min }) }) : null,
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
      if (calledAgain) chime.play().catch(() => {}); // a phone may refuse sound without a tap
    }
    cancel.hidden = !LEAVABLE.includes(status.state);
    if (cancel.hidden) confirm.hidden = true;
    root.dataset.state = status.state;
    shown = status;
  }

  const socket = io({ auth: { ticket_token: token } });
  socket.on("ticket_status", render);
  setInterval(async () => {
    if (socket.connected) return;
    const response = await fetch(`/api/v1/tickets/status/${encodeURIComponent(token)}`);
    if (response.ok) render(await response.json());
  }, 15000);

  document.getElementById("cancel-ask").addEventListener("click", () => {
    confirm.hidden = false;
    document.getElementById("cancel-no").focus();
  });
  document.getElementById("cancel-no").addEventListener("click", () => { confirm.hidden = true; });
  document.getElementById("cancel-yes").addEventListener("click", async () => {
    const response = await send("POST", `/api/v1/tickets/status/${encodeURIComponent(token)}/cancel`);
    if (response.ok) render(await response.json());
    confirm.hidden = true;
  });
})();
