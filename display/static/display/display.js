// The waiting-room display: calls pushed over Socket.IO, shown large and announced in order.
"use strict";

(function () {
  const root = document.getElementById("display");
  const languages = root.dataset.languages.split(",");
  const currentList = document.getElementById("current");
  const historyList = document.getElementById("history");
  const connection = document.getElementById("connection");
  const CURRENT = 4;
  const KEEP = 14;
  const MISSED_STILL_WORTH_ANNOUNCING_S = 120;
  let calls = []; // newest first, by seq
  let lastSeq = 0;
  let muted = false;
  let playing = false;
  const queue = [];
  const announced = []; // every call queued for announcement, in order (diagnostics, tests)

  function item(call, fresh) {
    const li = document.createElement("li");
    if (fresh) li.className = "fresh";
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = call.label;
    const arrow = document.createElement("span");
    arrow.className = "arrow";
    arrow.textContent = "→";
    const counter = document.createElement("span");
    counter.className = "counter";
    counter.textContent = call.counter;
    li.append(label, arrow, counter);
    return li;
  }

  function render(freshSeqs) {
    currentList.replaceChildren(...calls.slice(0, CURRENT).map((c) => item(c, freshSeqs.has(c.seq))));
    historyList.replaceChildren(...calls.slice(CURRENT, KEEP).map((c) => item(c, false)));
  }

  function merge(newCalls, announce) {
    const fresh = new Set();
    // Snapshots list calls newest first; announce in the order the calls were made.
    for (const call of [...newCalls].sort((a, b) => a.seq - b.seq)) {
      if (calls.some((known) => known.seq === call.seq)) continue;
      calls.push(call);
      fresh.add(call.seq);
      if (announce(call)) enqueue(call);
    }
    calls.sort((a, b) => b.seq - a.seq);
    calls = calls.slice(0, KEEP);
    lastSeq = Math.max(lastSeq, ...calls.map((c) => c.seq), 0);
    render(fresh);
    setTimeout(() => render(new Set()), 8000); // the flash of a new call lasts a few seconds
  }

  function enqueue(call) {
    queue.push(call);
    announced.push({ seq: call.seq, label: call.label, counter: call.counter, recall: call.recall,
      shownAt: Date.now() });
    playNext();
  }

  function play(url) {
    return played(prepared(url));
  }

  // An Audio element whose file starts loading now, to be played later: the spoken call is
  // fetched while the chime plays, and starts the moment the chime ends.
  function prepared(url) {
    const audio = new Audio(url);
    audio.preload = "auto";
    audio.addEventListener("error", () => { audio.failed = true; });
    return audio;
  }

  function played(audio) {
    return new Promise((resolve) => {
      if (audio.failed || audio.error) return resolve(); // no voice on the server: the chime alone
      audio.addEventListener("ended", resolve);
      audio.addEventListener("error", resolve);
      audio.play().catch(resolve);
    });
  }

  async function playNext() {
    if (playing || queue.length === 0) return;
    playing = true;
    const call = queue.shift();
    if (!muted) {
      const voices = languages.map((lang) => prepared(`${root.dataset.voiceUrl}?${
        new URLSearchParams({ label: call.label, counter: call.counter_id, lang })}`));
      await play(root.dataset.chimeUrl);
      for (const voice of voices) await played(voice);
    }
    playing = false;
    playNext();
  }

  const socket = io({ transports: ["websocket"] });
  socket.on("connect", () => { connection.hidden = true; });
  socket.on("disconnect", () => { connection.hidden = false; });
  socket.on("snapshot", (snapshot) => {
    // On first load nothing old is announced; after a reconnect, recent missed calls are.
    const firstLoad = lastSeq === 0;
    const now = Date.now() / 1000;
    merge(snapshot.recent_calls, (call) => !firstLoad && call.seq > lastSeq &&
      now - call.at < MISSED_STILL_WORTH_ANNOUNCING_S);
  });
  socket.on("ticket_called", (call) => {
    if (lastSeq && call.seq > lastSeq + 1) {
      // A call was missed between two events: ask for the whole picture again.
      socket.emit("request_snapshot", {}, (snapshot) =>
        merge(snapshot.recent_calls, (c) => c.seq > lastSeq && c.seq !== call.seq));
    }
    merge([call], () => true);
  });

  document.getElementById("mute").addEventListener("click", (event) => {
    muted = !muted;
    event.currentTarget.setAttribute("aria-pressed", String(muted));
  });
  document.getElementById("test-sound").addEventListener("click", () =>
    play(root.dataset.chimeUrl));

  async function rotateNotices() {
    const response = await fetch(root.dataset.noticesUrl, { credentials: "same-origin" });
    const notices = response.ok ? await response.json() : {};
    // Each notice marked with its own language, so a screen reader speaks it right.
    const texts = ["az", "ru", "en"].filter((l) => notices[l]).map((l) => [l, notices[l]]);
    let index = 0;
    const notice = document.getElementById("notice");
    const show = () => {
      const [lang, text] = texts.length ? texts[index++ % texts.length] : ["az", ""];
      notice.lang = lang;
      notice.textContent = text;
    };
    show();
    setInterval(show, 10000);
  }
  rotateNotices();

  window.dostqDisplay = { socket, announced, calls: () => calls };
})();
