/* Find in the text ("/") and word steps by the server's tokens.

   Find: the matches of the query (case-insensitive) over the blocks' text, as code-point
   offsets; all of them and the current one are painted with the CSS Custom Highlight API,
   so no element is added to the text. Leaving the box (Esc) selects the current match in
   the text, where a label key marks it; Alt with a label key marks every match.

   Word steps (w, b, Shift+arrows) move by the tokens the server snaps selections to,
   fetched a few blocks at a time, so what the page selects is what gets stored: "high-
   bandwidth" is one step, "DeepSeek's" ends a step after "DeepSeek". */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const text = () => $("doc-text");
  const urls = () => JSON.parse($("ws").dataset.urls);
  const cps = (s) => WSOffsets.codePoints(s);

  // --- find ---------------------------------------------------------------------------------

  let matches = [], at = -1, query = "";
  let whole = null;  // a long text's whole text (the page holds a window of its blocks)

  function searchIn(s, base, pattern, out) {
    let last = 0, lastCp = 0;
    for (const m of s.matchAll(pattern)) {
      lastCp += cps(s.slice(last, m.index));  // code points up to the match, counted once
      last = m.index;
      out.push({ start: base + lastCp, end: base + lastCp + cps(m[0]) });
    }
  }

  function search(q) {
    const out = [];
    if (!q) return out;
    const pattern = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "giu");
    if (WSWindow.windowed()) { if (whole !== null) searchIn(whole, 0, pattern, out); return out; }
    for (const block of text().children) searchIn(block.textContent, +block.dataset.start, pattern, out);
    return out;
  }

  // a match is drawn (and selected) only where the page holds its blocks
  const onPage = (m) => WSWindow.holds(m.start) && WSWindow.holds(Math.max(m.start, m.end - 1));

  function range(m) {
    const a = WSOffsets.domPoint(text(), m.start), b = WSOffsets.domPoint(text(), m.end);
    const r = document.createRange();
    r.setStart(a.node, a.offset);
    r.setEnd(b.node, b.offset);
    return r;
  }

  function paint() {
    if (!window.CSS || !CSS.highlights) return;
    CSS.highlights.delete("ws-find");
    CSS.highlights.delete("ws-find-cur");
    if (!matches.length) return;
    // painting is for the eye: a few hundred ranges around the current one are plenty
    const near = matches.slice(Math.max(0, at - 200), at + 200).filter(onPage);
    CSS.highlights.set("ws-find", new Highlight(...near.map(range)));
    if (at >= 0 && onPage(matches[at])) CSS.highlights.set("ws-find-cur", new Highlight(range(matches[at])));
  }

  function count() {
    const el = $("ws-find-count");
    if (!el) return;
    el.textContent = !query ? "" : matches.length ? `${at + 1} of ${matches.length}` : "no matches";
  }

  function show() {
    if (at >= 0 && !onPage(matches[at])) {  // elsewhere in a long text: its blocks first
      const m = matches[at];
      count();
      WSWindow.reveal(m.start).then((ok) => { if (ok && matches[at] === m) show(); });
      return;
    }
    paint();
    count();
    if (at >= 0) {
      const r = range(matches[at]);
      const node = r.startContainer.nodeType === Node.TEXT_NODE ? r.startContainer.parentElement : r.startContainer;
      const box = r.getBoundingClientRect();
      if (box.top < 120 || box.bottom > window.innerHeight - 20) node.scrollIntoView({ block: "center" });
    }
  }

  /** Search `q` from offset `from`: the current match is the first at or after it. */
  function update(q, from) {
    query = q;
    if (q && WSWindow.windowed() && whole === null) {  // the whole text comes once, then every search is local
      WSWindow.fullText().then((t) => { whole = t; if (query === q) update(q, from); }, () => {});
    }
    matches = search(q);
    at = matches.length ? Math.max(0, matches.findIndex((m) => m.start >= from)) : -1;
    show();
  }

  function step(dir) {
    if (!matches.length) return null;
    at = (at + dir + matches.length) % matches.length;
    show();
    return matches[at];
  }

  function open(from) {
    const box = $("ws-find"), input = $("ws-find-input");
    box.hidden = false;
    input.focus();
    input.select();
    input.dataset.from = String(from);
    if (WSWindow.windowed() && whole === null) WSWindow.fullText().then((t) => { whole = t; }, () => {});
    if (input.value) update(input.value, from);
  }

  /** Close the box; the current match (if any) becomes the text selection, and the focus
      goes to the text (not to the page body), where a label key marks the selection. */
  function close(select = true) {
    const box = $("ws-find");
    const had = document.activeElement === $("ws-find-input");
    box.hidden = true;
    if (had) {
      if (!text().hasAttribute("tabindex")) text().tabIndex = -1;
      text().focus({ preventScroll: true });
    }
    const m = at >= 0 ? matches[at] : null;
    if (m && select) {
      if (onPage(m)) WSOffsets.selectOffsets(text(), m.start, m.end);
      else WSWindow.reveal(m.start).then((ok) => { if (ok) WSOffsets.selectOffsets(text(), m.start, m.end); });
    }
    return m;
  }

  function onKey(e) {
    if (e.target.id !== "ws-find-input") return;
    if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); step(e.shiftKey ? -1 : 1); }
    else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
  }

  // --- tokens ---------------------------------------------------------------------------------

  const loaded = new Map();  // block id -> its tokens [[start, end], ...]
  const endOf = (blocks, k) => (k + 1 < blocks.length ? +blocks[k + 1].dataset.start
                                                      : +blocks[k].dataset.start + cps(blocks[k].textContent));

  async function tokensAround(offset) {
    const blocks = [...text().children];
    let i = blocks.findIndex((b, k) => +b.dataset.start <= offset && (k === blocks.length - 1 || +blocks[k + 1].dataset.start > offset));
    if (i < 0) i = blocks.length - 1;
    const want = [i - 1, i, i + 1].filter((k) => k >= 0 && k < blocks.length);
    const missing = want.filter((k) => !loaded.has(blocks[k].id));
    if (missing.length) {
      const lo = +blocks[missing[0]].dataset.start;
      const hi = endOf(blocks, missing[missing.length - 1]);
      const answer = await fetch(`${urls().tokens}?lo=${lo}&hi=${hi}`, { credentials: "same-origin" });
      if (!answer.ok) return [];
      const got = (await answer.json()).tokens;
      for (const k of missing) {
        const s = +blocks[k].dataset.start, e = endOf(blocks, k);
        loaded.set(blocks[k].id, got.filter((t) => t[0] >= s && t[0] < e));
      }
    }
    return want.flatMap((k) => loaded.get(blocks[k].id));
  }

  const WORDY = /[\p{L}\p{N}]/u;
  function blockText(t) {  // the token's own text, read from the page
    const r = range({ start: t[0], end: t[1] });
    return r.toString();
  }
  const wordy = (t) => WORDY.test(blockText(t));
  // a clitic ("'s", "n't") hangs on the word before it: a step of its own only when extending
  const clitic = (t, prev) => prev && prev[1] === t[0] && /^['’]/.test(blockText(t));

  /** The token to select for w (dir 1, first word starting at or after `from`) or b (dir -1,
      last word ending at or before it). */
  async function word(from, dir) {
    const tokens = await tokensAround(from);
    if (dir > 0) {
      for (let k = 0; k < tokens.length; k++) {
        const t = tokens[k];
        if (t[0] >= from && wordy(t) && !clitic(t, tokens[k - 1])) return { start: t[0], end: t[1] };
      }
    } else {
      for (let k = tokens.length - 1; k >= 0; k--) {
        const t = tokens[k];
        if (t[1] <= from && wordy(t) && !clitic(t, tokens[k - 1])) return { start: t[0], end: t[1] };
      }
    }
    return null;
  }

  /** The selection [start, end) with its end moved a word on (dir 1) or back (dir -1):
      punctuation alone (a hyphen, a comma) is never where a step stops. */
  async function extend(sel, dir) {
    const tokens = await tokensAround(dir > 0 ? sel.end : sel.start);
    if (dir > 0) {
      const t = tokens.find((x) => x[1] > sel.end && wordy(x));
      return t ? { start: sel.start, end: t[1] } : null;
    }
    const back = tokens.filter((x) => x[1] < sel.end && x[1] > sel.start && wordy(x));
    return back.length ? { start: sel.start, end: back[back.length - 1][1] } : null;
  }

  document.addEventListener("keydown", onKey, true);
  document.addEventListener("input", (e) => {
    if (e.target.id === "ws-find-input") update(e.target.value, +(e.target.dataset.from || 0));
  });
  document.addEventListener("htmx:afterSwap", () => {
    if (!query) return;
    if (!WSWindow.windowed()) { matches = search(query); at = Math.min(at, matches.length - 1); }  // (the text is the same)
    paint();
  });
  document.addEventListener("ws-window", () => { if (query) paint(); });  // blocks came or went: redraw what is on the page
  window.WSFind = { open, close, step, update, word, extend, tokensAround,
                    matches: () => matches, current: () => (at >= 0 ? matches[at] : null), query: () => query };
})();
