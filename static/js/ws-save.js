/* Autosave: every write of the workspace goes through one queue, in order, one at a time.

   - Writes come from hx-post elements (intercepted on htmx:confirm) and from the keyboard
     (WSSave.post). Each is snapshotted when asked for, so a retry sends the same change even
     if the element that asked has been swapped away since.
   - The layer version is added when a write is actually sent (read from #ws-version, which
     every answer replaces out of band), so queued writes never trip over each other.
   - A network error or timeout (htmx:sendError / htmx:timeout) keeps the write at the head of
     the queue, says so on the page and retries with backoff (1 s, 2 s, 4 s ... 30 s; the first
     wait is #ws's data-retry-ms when set).
   - Every write carries a key of its own (X-WS-Write, the same on every attempt) and retries
     say which attempt they are (X-WS-Attempt): when the connection dropped after the server
     stored a write but before its answer arrived, the retry is recognised and answered as
     saved instead of being refused as stale.
   - 409: another tab or window changed the layer first. Nothing was stored; the queue stops
     and the page offers to reload. 422/404: refused with the server's message, nothing stored.
   - Leaving the page with unsent writes asks first.
   - The save line (#ws-save) is read out sparingly (ws-say.js): "Saving…" only when a save
     takes longer than SLOW_MS, a connection problem once when it starts, "All changes saved"
     only after one of those; after a refusal it says nothing, as the refused change is not saved. */
(function () {
  "use strict";

  const queue = [];
  let running = false, frozen = false, attempt = 0, lastStatus = 0, nextJob = 1, afterNetworkError = false, refused = false;
  const RETRYABLE = new Set([0, 502, 503, 504]);
  const SLOW_MS = 2000;
  let slowTimer = 0, spoken = false;  // whether this run of saves said anything aloud yet
  // this page's prefix for write keys: random, so two tabs or two loads never share a key
  const PAGE = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

  function root() { return document.getElementById("ws"); }
  function version() { const v = document.getElementById("ws-version"); return v ? v.value : ""; }
  function saveLine() { return document.getElementById("ws-save"); }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function show(state, text) {
    const el = saveLine();
    if (!el) return;
    const was = el.dataset.state;
    el.dataset.state = state;
    el.textContent = text;
    if (state === "saving") {
      if (was !== "saving" && !slowTimer) slowTimer = setTimeout(() => { spoken = true; WSSay.polite(saveLine().textContent); }, SLOW_MS);
      return;
    }
    clearTimeout(slowTimer);
    slowTimer = 0;
    if (state === "offline" && was !== "offline") { spoken = true; WSSay.polite(text); }
    else if (state === "error") { spoken = true; WSSay.alert(text); }
    else if (state === "conflict") spoken = true;  // the refusal itself is read out (ws-say.js)
    else if (state === "saved" && spoken) { spoken = false; WSSay.polite(text); }
    else if (state === "idle") spoken = false;
  }

  function snapshot(elt) {
    const values = {};
    const add = (k, v) => { if (k in values) values[k] = [].concat(values[k], v); else values[k] = v; };
    if (elt instanceof HTMLFormElement) {
      for (const [k, v] of new FormData(elt)) add(k, v);
    }
    const vals = elt.getAttribute("hx-vals");
    if (vals) Object.entries(JSON.parse(vals)).forEach(([k, v]) => { values[k] = v; });
    delete values.version;
    return values;
  }

  /** Queue a write: path from url_for (via the page), values without the version. */
  function post(path, values, opts) {
    if (frozen) {
      show("conflict", "Not saved: this page is out of date. Reload it to continue.");
      WSSay.alert("Not saved: this page is out of date. Reload it to continue.");
      return;
    }
    queue.push({ id: nextJob++, path: path, values: values || {}, opts: opts || {} });
    pump();
  }

  async function pump() {
    if (running) return;
    running = true;
    while (queue.length && !frozen) {
      const job = queue[0];
      show("saving", queue.length > 1 ? `Saving… (${queue.length} changes waiting)` : "Saving…");
      const outcome = await send(job);
      if (outcome === "retry") {
        attempt += 1;
        afterNetworkError = true;
        const base = +(root() && root().dataset.retryMs) || 1000;  // data-retry-ms: first wait, doubled each time
        const wait = Math.min(30000, base * 2 ** (attempt - 1));
        show("offline", `Connection problem: ${queue.length} change${queue.length > 1 ? "s" : ""} not saved yet. ` +
             `Retrying ${wait < 1000 ? "in a moment" : `in ${Math.round(wait / 1000)} s`} (attempt ${attempt + 1}); ` +
             "nothing is lost while this page stays open.");
        await sleep(wait);
        continue;
      }
      queue.shift();
      attempt = 0;
      if (outcome === "conflict") {
        frozen = true;
        const dropped = queue.splice(0).length;
        show("conflict", (afterNetworkError ? "Your last change may already have been saved before the connection dropped. " : "") +
             "Reload to see the latest version" + (dropped ? ` (${dropped} later change${dropped > 1 ? "s" : ""} not sent).` : "."));
      } else if (outcome === "failed") {
        show("error", "The server could not save the last change (it was not stored). Try again, or reload.");
      } else if (outcome === "refused") {
        refused = true;
      }
      afterNetworkError = afterNetworkError && outcome !== "ok";
      if (job.opts.done) job.opts.done(outcome);
    }
    running = false;
    if (!queue.length && !frozen && saveLine() && ["saving", "offline"].includes(saveLine().dataset.state)) {
      if (refused) show("idle", "");  // the refused change is not saved: "all saved" would not be true
      else show("saved", "All changes saved");
    }
    refused = false;
  }

  function send(job) {  // the one place every write leaves the page
    const values = Object.assign({}, job.values, { version: version() });
    const headers = { "X-WS-Job": String(job.id), "X-WS-Write": `${PAGE}-${job.id}`, "X-WS-Attempt": String(attempt + 1) };
    const csrf = document.querySelector('meta[name="csrf-token"]');  // arrives with accounts
    if (csrf) headers["X-CSRFToken"] = csrf.content;
    const held = window.WSWindow && WSWindow.range();  // a long text: the blocks this page holds
    if (held) headers["X-WS-Window"] = held;
    lastStatus = 0;
    return htmx.ajax("POST", job.path, {
      source: root(), target: "#ws-status", swap: "innerHTML", values: values, headers: headers,
    }).then(() => classify(lastStatus), () => "retry");
  }

  function classify(status) {
    if (status >= 200 && status < 300) return "ok";
    if (status === 409) return "conflict";
    if (RETRYABLE.has(status)) return "retry";
    if (status >= 400 && status < 500) return "refused";
    return "failed";
  }

  document.addEventListener("htmx:afterRequest", (e) => {
    const headers = e.detail.requestConfig && e.detail.requestConfig.headers;
    if (headers && headers["X-WS-Job"]) lastStatus = e.detail.xhr.status;
  });

  /** What to ask before this write, if anything: a bulk decision above the page's limit
      (data-ws-ask, set by the server with the count), or marking done with work pending. */
  function ask(elt) {
    if (elt.dataset.wsAsk) return elt.dataset.wsAsk;
    if (!("wsAskPending" in elt.dataset)) return null;
    const total = document.querySelector('#ws-suggestions [data-testid="pending-total"]');
    const spans = total ? +total.textContent.replace(/\D/g, "") : 0;
    const links = document.querySelectorAll("#ws-claims [data-suggested], #ws-relations [data-suggested]").length;
    const parts = [];
    if (spans) parts.push(`${spans} suggestion${spans > 1 ? "s" : ""}`);
    if (links) parts.push(`${links} suggested claim${links > 1 ? "s" : ""} or relation${links > 1 ? "s" : ""}`);
    return parts.length ? `${parts.join(" and ")} still pending. Mark the document done anyway?` : null;
  }

  // hx-post inside the workspace joins the queue instead of going out on its own.
  document.addEventListener("htmx:confirm", (e) => {
    const d = e.detail;
    if (d.verb !== "post" || !d.elt.closest("#ws")) return;
    if (d.etc && d.etc.headers && d.etc.headers["X-WS-Job"]) return;  // ours, already queued
    e.preventDefault();
    const question = ask(d.elt);
    if (question && !window.confirm(question)) return;
    post(d.path, snapshot(d.elt));
  });

  // A refused GET (a form that cannot open) shows its message in the status line.
  document.addEventListener("htmx:beforeSwap", (e) => {
    const xhr = e.detail.xhr;
    if (xhr.status >= 400 && e.detail.target && e.detail.target.id === "ws-form") {
      e.detail.target = document.getElementById("ws-status");
    }
  });

  document.addEventListener("htmx:sendError", (e) => {
    const headers = e.detail.requestConfig && e.detail.requestConfig.headers;
    if (!(headers && headers["X-WS-Job"])) show("offline", "Connection problem: could not reach the server.");
  });

  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-ws-reload]")) { e.preventDefault(); window.location.reload(); }
  });

  window.addEventListener("beforeunload", (e) => {
    if (queue.length) { e.preventDefault(); e.returnValue = ""; }
  });

  // Keys that wait on the server before they can ask for a write (a word step's tokens) hold
  // the queue open: pending() counts them, so "all saved" is never said too early.
  let held = 0;
  function hold(promise) {
    held += 1;
    return promise.finally(() => { held -= 1; });
  }

  window.WSSave = { ask: ask, hold: hold, post: post, pending: () => queue.length + held, frozen: () => frozen };
})();
