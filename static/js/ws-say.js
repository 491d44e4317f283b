/* What the workspace says aloud, through two live regions of its own (page.html): #ws-said
   (polite) and #ws-alert (assertive, role=alert). The status line a sighted annotator reads
   (#ws-status) is no live region itself: each message put there is read out once, a refusal
   or a conflict assertively, anything else politely, so a refusal is never read twice or
   followed by a polite word that contradicts it. */
(function () {
  "use strict";

  const REFUSED = new Set(["error", "conflict"]);
  const timers = new Map();

  /** Put `text` in the live region `id` (cleared first, so the same words are read again). */
  function speak(id, text) {
    const region = document.getElementById(id);
    if (!region || !text) return;
    clearTimeout(timers.get(id));
    region.textContent = "";
    timers.set(id, setTimeout(() => { region.textContent = text; }, 60));
  }

  const polite = (text) => speak("ws-said", text);
  const alert = (text) => speak("ws-alert", text);

  /** Read out the message now in the status line, by its kind. */
  function readStatus() {
    const box = document.querySelector("#ws-status #ws-message");
    if (!box) return;
    const words = (box.querySelector(".ws-msg-text") || box).textContent.trim().replace(/\s+/g, " ");
    if (REFUSED.has(box.dataset.kind)) alert(words);
    else polite(words);
  }

  function watch() {
    const status = document.getElementById("ws-status");
    if (!status || watch.done) return;
    watch.done = true;
    new MutationObserver(readStatus).observe(status, { childList: true });
  }
  document.addEventListener("DOMContentLoaded", watch);
  if (document.readyState !== "loading") watch();

  window.WSSay = { polite, alert };
})();
