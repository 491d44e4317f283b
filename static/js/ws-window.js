/* A long text's window of blocks.

   A page holding every block of a long document pays for all of them on every answer (style
   and layout of ~5,000 blocks), so a text over the server's limit comes as a window: #doc-text
   holds blocks [lo, hi) of n (data-window "lo hi n chunk"), its padding stands in for the
   blocks above and below, and more blocks are fetched (about `chunk` characters at a time) as
   the edge of the window comes near the screen, the far side dropped again. A key that moves
   past the edge, a find match or a panel row elsewhere loads the blocks it needs first
   (extend, reveal). Every block keeps its data-start, so offsets stay the stored code points.
   A page without data-window holds the whole text and nothing here does anything. */
(function () {
  "use strict";

  const KEEP = 6;  // chunks of characters the page holds at most
  const MARGIN = 1500;  // px: how near the screen an edge is when the blocks beyond it are fetched
  const AHEAD = `${MARGIN}px 0px`;
  const $ = (id) => document.getElementById(id);
  const text = () => $("doc-text");
  const urls = () => JSON.parse($("ws").dataset.urls);

  function state() {
    const el = text(), w = el && el.dataset.window;
    if (!w) return null;
    const [lo, hi, n, chunk] = w.split(" ").map(Number);
    return { lo, hi, n, chunk };
  }
  const windowed = () => !!state();
  const blockIndex = (b) => +b.id.slice(2);
  const startOf = (b) => +b.dataset.start;
  const endOf = (b) => startOf(b) + WSOffsets.codePoints(b.textContent);

  function setState(lo, hi) {
    const s = state();
    text().dataset.window = `${lo} ${hi} ${s.n} ${s.chunk}`;
  }

  /** [first code point, end) of the blocks the page holds. */
  function held() {
    const el = text(), first = el.firstElementChild, last = el.lastElementChild;
    return first ? [startOf(first), endOf(last)] : [0, 0];
  }
  function holds(offset) {
    if (!windowed()) return true;
    const [a, b] = held();
    return offset >= a && (offset < b || (offset === b && b === +text().dataset.chars));
  }
  const more = (dir) => { const s = state(); return !!s && (dir > 0 ? s.hi < s.n : s.lo > 0); };

  // --- the padding that stands for the blocks not held ----------------------------------------

  const base = new WeakMap();  // #doc-text -> its own padding [top, bottom] in px
  function pad() {
    const el = text();
    if (!windowed() || !el.firstElementChild) return;
    if (!base.has(el)) {
      el.style.paddingTop = el.style.paddingBottom = "";
      const cs = getComputedStyle(el);
      base.set(el, [parseFloat(cs.paddingTop) || 0, parseFloat(cs.paddingBottom) || 0]);
    }
    const [top, bottom] = base.get(el), [a, b] = held();
    const first = el.firstElementChild.getBoundingClientRect(), last = el.lastElementChild.getBoundingClientRect();
    const perChar = Math.max(0.05, (last.bottom - first.top) / Math.max(1, b - a));
    el.style.paddingTop = `${Math.round(top + a * perChar)}px`;
    el.style.paddingBottom = `${Math.round(bottom + (+el.dataset.chars - b) * perChar)}px`;
  }

  /** Which end of the text is on the screen: "top", "end" or null. The edges of #doc-text
      are the ends of the text, exactly, whatever the padding's estimate says. */
  function textEnd() {
    const box = text().getBoundingClientRect();
    return box.top >= 0 ? "top" : box.bottom <= window.innerHeight ? "end" : null;
  }
  const edgeOffset = (at) => (at === "top" ? 0 : Math.max(0, +text().dataset.chars - 1));  // its code point
  const edgeY = (at) => text().getBoundingClientRect()[at === "top" ? "top" : "bottom"];

  /** Run `change` keeping the first block on screen where it was (the padding above it is
      an estimate, and blocks above it come and go). With none on screen (a scroll through
      the padding) there is nothing to keep, and a scroll here would cut the user's own
      scrolling short where it was. With an edge of the text on the screen and the change
      bringing that end of the text, the edge stays where it was instead: a block kept in
      place would leave the text's end off the screen by the padding's error. */
  function keepPlace(change) {
    const onScreen = (b) => { const r = b.getBoundingClientRect(); return r.bottom > 0 && r.top < window.innerHeight; };
    const anchor = [...text().children].find(onScreen);
    const before = anchor ? anchor.getBoundingClientRect().top : 0, at = textEnd(), edge = at && edgeY(at);
    change();
    const s = state(), reached = (at === "top" && s.lo === 0) || (at === "end" && s.hi === s.n);
    let moved = 0;
    if (reached) moved = edgeY(at) - edge;
    else if (anchor && anchor.isConnected) moved = anchor.getBoundingClientRect().top - before;
    if (Math.abs(moved) >= 1) window.scrollBy(0, moved);
  }

  // --- fetching blocks ---------------------------------------------------------------------------

  async function fetchBlocks(query) {
    const answer = await fetch(`${urls().blocks}?${query}`, { credentials: "same-origin" });
    if (answer.status === 204 || !answer.ok) return [];
    const t = document.createElement("template");
    t.innerHTML = await answer.text();  // the server escaped every piece of the text
    return [...t.content.children].filter((b) => b.classList.contains("blk"));
  }

  function changed() {
    observeEdges();
    document.dispatchEvent(new CustomEvent("ws-window"));
  }

  /** Trim the side away from `dir` down to KEEP chunks of characters, dropping only blocks
      well beyond the distance an edge is fetched from (else a short screen would fetch them
      back at once). */
  function trim(dir) {
    const s = state(), el = text();
    const over = () => { const [a, b] = held(); return b - a > KEEP * s.chunk && el.children.length > 2; };
    const drop = dir > 0 ? () => el.firstElementChild : () => el.lastElementChild;
    const far = (b) => { const r = b.getBoundingClientRect(), h = window.innerHeight;
                         return dir > 0 ? r.bottom < -(2 * MARGIN + h) : r.top > 2 * (MARGIN + h); };
    const guard = cursorBlock();
    let lo = s.lo, hi = s.hi;
    keepPlace(() => {
      while (over() && drop() !== guard && far(drop())) {
        if (dir > 0) lo++; else hi--;
        drop().remove();
      }
      setState(lo, hi);
      pad();
    });
  }

  function cursorBlock() {  // the block holding the focus or the selection: never dropped
    const sel = window.getSelection(), node = (sel && sel.rangeCount && sel.anchorNode) || document.activeElement;
    const el = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
    return el && el.closest ? el.closest("#doc-text .blk") : null;
  }

  const busy = new Map();  // dir -> the promise of the fetch under way
  /** Fetch the blocks next to the window on side `dir`; resolves true if any came. */
  function extend(dir) {
    if (!more(dir)) return Promise.resolve(false);
    if (busy.has(dir)) return busy.get(dir);
    const s = state();
    const job = fetchBlocks(dir > 0 ? `after=${s.hi - 1}` : `before=${s.lo}`).then((got) => {
      busy.delete(dir);
      const now = state();
      if (!got.length || !now) return false;
      const el = text(), first = blockIndex(got[0]), last = blockIndex(got[got.length - 1]);
      if (dir > 0 ? first !== now.hi : last !== now.lo - 1) return false;  // the text was swapped meanwhile
      keepPlace(() => {
        if (dir > 0) el.append(...got); else el.prepend(...got);
        setState(dir > 0 ? now.lo : first, dir > 0 ? last + 1 : now.hi);
        pad();
      });
      trim(dir);
      changed();
      return true;
    }, () => { busy.delete(dir); return false; });
    busy.set(dir, job);
    return job;
  }

  let jumps = 0;  // jumps asked for: only the latest one's answer lands (answers can cross)
  /** Replace the window by the blocks around code point `offset`; with `here` (a scroll into
      the padding), the block holding it lands at the top of the screen, where the scroll went,
      or, with the text's end on the screen, that end stays where the screen had it. */
  async function jump(offset, here = false) {
    const ticket = ++jumps, from = window.scrollY;
    const got = await fetchBlocks(`at=${offset}`);
    if (ticket !== jumps || !got.length || !windowed()) return false;
    const at = textEnd();
    if (here && (Math.abs(window.scrollY - from) > window.innerHeight || (at && offset !== edgeOffset(at)))) {
      onScroll();  // the screen moved on while the blocks came (a drag, a fling to an end): not where it went
      return false;
    }
    const el = text(), end = here && at === "end" ? edgeY(at) : null;
    el.replaceChildren(...got);
    setState(blockIndex(got[0]), blockIndex(got[got.length - 1]) + 1);
    pad();
    if (end !== null) window.scrollBy(0, edgeY(at) - end);  // the text's end where the screen had it
    else if (here && state().lo > 0) {
      const target = got.filter((b) => startOf(b) <= offset).pop() || got[0];
      const off = target.getBoundingClientRect().top;
      el.style.paddingTop = `${Math.max(base.get(el)[0], parseFloat(el.style.paddingTop) - off)}px`;
    }
    changed();
    return true;
  }

  /** Make sure the block holding `offset` is on the page (fetching it if not). */
  async function reveal(offset) {
    if (holds(offset)) return true;
    const [a, b] = held(), s = state();
    if (offset >= b && offset - b < s.chunk) { if (await extend(1)) return reveal(offset); }
    else if (offset < a && a - offset < s.chunk) { if (await extend(-1)) return reveal(offset); }
    if (holds(offset)) return true;
    return jump(offset);
  }

  // --- scrolling: edges near the screen grow, a jump into the padding lands there ---------------

  let observer = null;
  function observeEdges() {
    if (observer) observer.disconnect();
    if (!windowed() || !text().firstElementChild) return;
    observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        if (e.target === text().lastElementChild) extend(1);
        if (e.target === text().firstElementChild) extend(-1);
      }
    }, { rootMargin: AHEAD });
    observer.observe(text().firstElementChild);
    observer.observe(text().lastElementChild);
  }

  let queued = false;
  function onScroll() {
    if (queued || !windowed()) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      const el = text(), first = el.firstElementChild, last = el.lastElementChild;
      if (!first) return;
      const top = first.getBoundingClientRect().top, bottom = last.getBoundingClientRect().bottom;
      const h = window.innerHeight;
      if (bottom > -h && top < 2 * h) return;  // blocks on or near the screen: the edges do the rest
      const [a, b] = held(), perChar = (bottom - top) / Math.max(1, b - a);
      const at = textEnd(), estimate = bottom <= -h ? b + Math.round(-bottom / perChar) : a - Math.round(top / perChar);
      jump(at ? edgeOffset(at) : Math.max(0, Math.min(+el.dataset.chars - 1, estimate)), true);
    });
  }

  function setup() {
    if (!windowed()) return;
    pad();
    observeEdges();
  }

  // A whole-text swap (accept all) brings a new #doc-text: it takes the old one's padding at
  // once, so the page does not jump before pad() measures it again.
  let carried = null;
  document.addEventListener("htmx:oobBeforeSwap", (e) => {
    const old = e.detail.target;
    if (old && old.id === "doc-text" && windowed()) carried = [old.style.paddingTop, old.style.paddingBottom, base.get(old)];
  });

  htmx.onLoad((elt) => {  // the first load, a whole-text swap, or a block swapped at an edge
    if (!text() || !windowed()) return;
    if (elt === text() || (elt.contains && elt.contains(text()))) {
      if (carried && !base.has(text())) {
        [text().style.paddingTop, text().style.paddingBottom] = carried;
        if (carried[2]) base.set(text(), carried[2]);
      }
      carried = null;
      keepPlace(setup);
    } else if (elt.classList && elt.classList.contains("blk")) observeEdges();
  });
  window.addEventListener("scroll", onScroll, { passive: true });

  // Home and End with that end of the text not held: the page goes there at once. The
  // browser's own scroll is animated, and blocks fetched while it runs (each kept in place)
  // move where it ends, short of the edge; at once, the jump at the edge (onScroll) brings
  // the blocks there.
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.shiftKey || (e.key !== "Home" && e.key !== "End") || !windowed()) return;
    if (e.target.closest && e.target.closest("input, select, textarea, [contenteditable], dialog")) return;
    const home = e.key === "Home";
    if (!more(home ? -1 : 1)) return;  // held: the browser's scroll crosses no missing block
    e.preventDefault();
    window.scrollTo({ top: home ? 0 : document.documentElement.scrollHeight, behavior: "instant" });
  });

  // --- the whole text, for find ----------------------------------------------------------------

  let whole = null;
  function fullText() {
    if (!windowed()) return Promise.resolve(text().textContent);
    if (!whole) {
      whole = fetch(urls().text, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status))))
        .then((j) => j.text, (err) => { whole = null; throw err; });
    }
    return whole;
  }

  window.WSWindow = {
    windowed, holds, more, extend, reveal, fullText,
    range: () => { const s = state(); return s ? `${s.lo} ${s.hi}` : null; },
    state,
  };
})();
