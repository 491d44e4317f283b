/* Keyboard focus in the workspace: where it goes when what held it is swapped away, and
   scrolling that keeps the current item clear of the sticky bar.

   htmx replaces the fragments a write changed, and a form closes by emptying its slot, so the
   element that had the focus (a button of the panel, a mark, a form field) is often gone when
   an answer lands, and the browser drops the focus to the page body. After each answer
   WSFocus.restore() puts it back on the same control when it is back, else on a control of the
   same panel, else on the current item; after a form, on what opened it or the current item.

   The bar's height is kept in --ws-bar-h (a constructed stylesheet: the page allows no style
   attribute), which the page's scroll padding and the side panel's top use. */
(function () {
  "use strict";

  const FOCUSABLE = "button, a[href], input, select, textarea, [tabindex]";
  let last = null;    // {el, container, index}: the last element that had the focus in the workspace
  let opener = null;  // what had the focus when a form opened

  const usable = (el) => !!el && el.isConnected && !el.disabled && !el.closest("[hidden]") && el.getClientRects().length > 0;
  const lost = () => !document.activeElement || document.activeElement === document.body;

  function containerOf(el) {
    const box = el.parentElement && el.parentElement.closest("[id]");
    return box && box.id !== "ws" ? box.id : null;
  }

  function controls(box) {
    return [...box.querySelectorAll(FOCUSABLE)].filter((e) => e.tabIndex >= 0 && usable(e));
  }

  document.addEventListener("focusin", (e) => {
    const el = e.target;
    if (!el.closest || !el.closest("#ws")) return;
    const container = containerOf(el);
    const box = container && document.getElementById(container);
    last = { el, container, index: box ? controls(box).indexOf(el) : -1 };
  });

  // The annotator moving the focus away (a click on plain text drops it to the body) is no
  // loss to repair: only a focus whose element was swapped away is put back.
  document.addEventListener("focusout", (e) => {
    const el = e.target;
    if (e.relatedTarget || !last || last.el !== el) return;
    setTimeout(() => { if (el.isConnected && lost() && last && last.el === el) last = null; }, 0);
  });

  /** The element standing for `el` now: itself, or its re-rendered twin (same id, same
      request, same item). */
  function twin(el) {
    if (!el) return null;
    if (el.isConnected) return usable(el) ? el : null;
    const tries = [];
    if (el.id) tries.push(`#${CSS.escape(el.id)}`);
    for (const name of ["data-ws-focus", "data-suggested", "hx-get", "hx-post"]) {
      const value = el.getAttribute && el.getAttribute(name);
      if (!value) continue;
      let sel = `[${name}="${CSS.escape(value)}"]`;
      const vals = el.getAttribute("hx-vals");
      if (name === "hx-post" && vals) sel += `[hx-vals="${CSS.escape(vals)}"]`;
      tries.push(sel);
    }
    for (const sel of tries) {
      const found = document.querySelector(sel);
      if (usable(found)) return found;
    }
    return null;
  }

  /** A control of the panel that held `seen`: the one at its place, else the nearest, else
      the panel's heading. */
  function neighbourIn(seen) {
    const box = seen && seen.container && document.getElementById(seen.container);
    if (!box) return null;
    const list = controls(box);
    if (list.length) return list[Math.min(Math.max(seen.index, 0), list.length - 1)];
    const heading = box.querySelector("h2, h3");
    if (heading) { heading.tabIndex = -1; return heading; }
    return null;
  }

  function put(el) {
    if (!el) return false;
    if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.tabIndex = -1;
    el.focus({ preventScroll: true });
    reveal(el);
    return document.activeElement === el;
  }

  /** After an answer (or a form closing): if the focus fell to the body, put it somewhere
      sensible. `current` gives the current item's element. */
  function restore(current) {
    if (!lost() || !last) return;
    const wasInForm = last && last.el.closest(".ws-form, #ws-form");
    const now = () => (current ? current() : null);
    const tries = wasInForm
      ? [() => twin(opener), now, () => twin(last.el)]
      : [() => twin(last && last.el), () => (last && last.el.closest("#doc-text") ? now() : null),
         () => neighbourIn(last), now];
    for (const get of tries) if (put(get())) return;
    const main = document.querySelector("main");
    if (main) { if (!main.hasAttribute("tabindex")) main.tabIndex = -1; main.focus({ preventScroll: true }); }
  }

  /** A form opened: remember what opened it, focus `first` and bring the form on screen. */
  function opened(form, first) {
    const had = document.activeElement;
    opener = had && had !== document.body && !form.contains(had) ? had : (last && last.el) || null;
    if (first) first.focus({ preventScroll: true });
    form.scrollIntoView({ block: "nearest" });
    requestAnimationFrame(() => { if (form.isConnected) form.scrollIntoView({ block: "nearest" }); });
  }

  // --- scrolling clear of the bar ---------------------------------------------------------------

  function barBottom() {
    const bar = document.querySelector(".ws-bar");
    return bar ? Math.max(0, bar.getBoundingClientRect().bottom) : 0;
  }

  /** Scroll `el` into view below the sticky bar; checked again for two frames, as blocks
      drawn lazily may take their real height only once they come near the screen. */
  function reveal(el, frames = 2) {
    if (!el || !el.isConnected || el.closest(".ws-side")) return;
    const box = el.getBoundingClientRect();
    if (box.top < barBottom() || box.bottom > window.innerHeight) el.scrollIntoView({ block: "nearest" });
    if (frames > 0) requestAnimationFrame(() => reveal(el, frames - 1));
  }

  const sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  let barHeight = -1;
  function measure() {  // a new sheet restyles the whole text: only when the height changed
    const bar = document.querySelector(".ws-bar");
    const height = bar ? Math.ceil(bar.getBoundingClientRect().height) : -1;
    if (height < 0 || height === barHeight) return;
    barHeight = height;
    sheet.replaceSync(`:root { --ws-bar-h: ${height}px; }`);
  }
  function watch() {
    const bar = document.querySelector(".ws-bar");
    if (!bar || watch.done) return;
    watch.done = true;
    new ResizeObserver(measure).observe(bar);
    measure();
  }
  document.addEventListener("DOMContentLoaded", watch);
  if (document.readyState !== "loading") watch();

  window.WSFocus = { restore, opened, reveal, lost, opener: () => opener };
})();
