/* The workspace's keyboard and pointer: the current item, label keys, relation and claim flows.

   An item is a confirmed span ("s12") or a pending suggestion ("g34"); the marks in the text
   name theirs in data-i ("s12:ORG g34:ORG"). A suggested claim ("c5") or relation ("l7") is
   an item of the side panel: its row names its parts' offsets, whose marks are lit while it
   is current. The current item is remembered by key, so it survives the swaps that
   re-render its block or its row. Every change goes through WSSave.post (the
   write queue); forms are fetched with htmx.ajax. Nothing here talks to the server itself. */
(function () {
  "use strict";

  let cur = null;         // the current item {key, word, label, kind, start, end}
  let relHead = null;     // the head span while a relation is being built

  const $ = (id) => document.getElementById(id);
  const ws = () => $("ws");
  const text = () => $("doc-text");
  const urls = () => JSON.parse(ws().dataset.urls);
  const url = (name, id) => urls()[name].replace(urls().id, String(id));
  const num = (key) => key.slice(1);
  const quantityLabel = () => ws().dataset.quantityLabel;

  // --- items, read block by block ---------------------------------------------------------
  // Reading every mark of a long text costs ~20 ms; a block is read once and kept until htmx
  // replaces its element, so moving, accepting or re-finding an item reads a block or two.

  const parsed = new WeakMap();  // block element -> its items in text order
  const order = (a, b) => a.start - b.start || b.end - a.end || (a.kind === b.kind ? 0 : a.kind === "s" ? -1 : 1);

  function blockItems(block) {
    let list = parsed.get(block);
    if (list) return list;
    const byWord = new Map();
    for (const m of block.getElementsByTagName("mark")) {
      const s = +m.getAttribute("data-start"), e = +m.getAttribute("data-end");
      for (const word of m.getAttribute("data-i").split(" ")) {
        const it = byWord.get(word);
        if (it) { it.end = e; continue; }  // an item covers consecutive marks
        const colon = word.indexOf(":");
        byWord.set(word, { key: word.slice(0, colon), word, label: word.slice(colon + 1), kind: word[0],
                           start: s, end: e, block: block.id });
      }
    }
    list = [...byWord.values()].sort(order);
    parsed.set(block, list);
    return list;
  }

  const blockStart = (b) => +b.getAttribute("data-start");

  function blockIndexAt(blocks, offset) {  // the block holding `offset` (binary search)
    let lo = 0, hi = blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (blockStart(blocks[mid]) <= offset) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function continued(blocks, i, it) {  // the tail of an item that started in an earlier block
    return i > 0 && it.start === blockStart(blocks[i]) && blockItems(blocks[i - 1]).some((x) => x.word === it.word);
  }

  /** The next (dir 1) or previous (dir -1) item from `from` (null: the ends) passing `test`. */
  function neighbour(from, dir, test) {
    const blocks = text().children;
    if (!blocks.length) return null;
    let i = from ? blockIndexAt(blocks, from.start) : dir > 0 ? 0 : blocks.length - 1;
    for (let first = true; i >= 0 && i < blocks.length; i += dir, first = false) {
      const list = blockItems(blocks[i]);
      let candidates = dir > 0 ? list : [...list].reverse();
      if (first && from) {
        const at = list.findIndex((it) => it.key === from.key);
        if (at >= 0) candidates = dir > 0 ? list.slice(at + 1) : list.slice(0, at).reverse();
        else candidates = candidates.filter((it) => dir * order(it, from) > 0);  // gone: go on from its place
      }
      for (const it of candidates) {
        if (!continued(blocks, i, it) && (!test || test(it))) return it;
      }
    }
    return null;
  }

  /** `apply` the next (dir 1) or previous (dir -1) item from `from` passing `test` (null at
      the text's end). In a long text's window (ws-window.js) the blocks past its edge are
      fetched first when the item is not among those the page holds. */
  function go(from, dir, test, apply) {
    const away = from && !isLink(from) && !WSWindow.holds(from.start);  // its blocks left the page
    const it = away ? null : neighbour(from, dir, test);
    if (it || (!away && !WSWindow.more(dir))) { apply(it); return; }
    (away ? WSWindow.reveal(from.start) : WSWindow.extend(dir)).then((grew) => {
      if (grew) go(from, dir, test, apply); else apply(null);
    });
  }

  /** The item with this key, looked for in block `hint` first. */
  function find(key, hint) {
    if (isLink({ kind: key[0] })) return linkItem(linkRow(key));
    const block = hint && $(hint);
    const there = block && blockItems(block).find((it) => it.key === key);
    if (there) return there;
    const mark = text().querySelector(`mark[data-i^="${key}:"], mark[data-i*=" ${key}:"]`);
    return mark ? blockItems(mark.closest(".blk")).find((it) => it.key === key) || null : null;
  }

  function marksOf(it) {  // its marks, following it into the next blocks if it runs on
    const out = [], sel = `mark[data-i~="${CSS.escape(it.word)}"]`;
    for (let b = $(it.block); b; b = b.nextElementSibling) {
      const found = b.querySelectorAll(sel);
      out.push(...found);
      const next = b.nextElementSibling;
      if (!found.length || !next || +found[found.length - 1].getAttribute("data-end") !== blockStart(next)) break;
    }
    return out;
  }

  function items() {  // every item in text order (for tests and tools; the keys never need it)
    const blocks = [...text().children];
    return blocks.flatMap((b, i) => blockItems(b).filter((it) => !continued(blocks, i, it)));
  }

  // --- suggested claims and relations: rows of the side panel ----------------------------------

  const isLink = (it) => !!it && (it.kind === "c" || it.kind === "l");
  const LINK_ROWS = "#ws-claims [data-suggested], #ws-relations [data-suggested]";
  const linkRow = (key) => document.querySelector(`[data-suggested="${CSS.escape(key)}"]`);

  function linkItem(row) {
    if (!row) return null;
    const parts = JSON.parse(row.dataset.parts);
    return { key: row.dataset.suggested, kind: row.dataset.suggested[0], label: row.dataset.label,
             text: row.dataset.text, start: parts[0][0], end: parts[0][1], parts: parts };
  }

  function links() {  // every suggested claim and relation, in text order (claims first at one place)
    const all = [...document.querySelectorAll(LINK_ROWS)].map(linkItem);
    return all.sort((a, b) => a.start - b.start || b.end - a.end || a.kind.localeCompare(b.kind));
  }

  /** The next (dir 1) or previous (dir -1) suggested claim or relation in text order, from the
      current item (a span or suggestion counts by its place). */
  function nextLink(dir) {
    const all = links();
    const at = isLink(cur) ? all.findIndex((it) => it.key === cur.key) : -1;
    if (at >= 0) return all[at + dir] || null;
    if (!cur) return (dir > 0 ? all[0] : all[all.length - 1]) || null;
    const ahead = all.filter((it) => (dir > 0 ? it.start >= cur.start : it.start <= cur.start));
    return (dir > 0 ? ahead[0] : ahead[ahead.length - 1]) || null;
  }

  function partMarks(it) {  // the marks inside its parts' offsets
    const blocks = text().children, out = [];
    for (const [s, e] of it.parts) {
      for (let i = blockIndexAt(blocks, s); i < blocks.length && blockStart(blocks[i]) < e; i++) {
        for (const m of blocks[i].getElementsByTagName("mark")) {
          if (+m.getAttribute("data-start") >= s && +m.getAttribute("data-end") <= e) out.push(m);
        }
      }
    }
    return out;
  }

  const itemText = (it) => (isLink(it) ? it.text : marksOf(it).map((m) => m.textContent).join(""));
  let lit = [];  // what carries the "cur" class now

  /** Make `it` current: its marks (and panel row) lit and aria-current; with `scroll`,
      brought on screen clear of the bar; with `focus`, it takes the keyboard focus (the keys
      that move through items pass it on, so a screen reader reads where the cursor is). */
  function setCurrent(it, scroll, focus) {
    lit.forEach((el) => { el.classList.remove("cur"); el.removeAttribute("aria-current"); });
    lit = [];
    cur = it;
    if (it) {
      lit = isLink(it) ? partMarks(it) : marksOf(it);
      const row = isLink(it) ? linkRow(it.key) : document.querySelector(`.span-row[data-ws-focus="${it.key}"]`);
      if (row) lit.push(row);
      lit.forEach((el) => { el.classList.add("cur"); el.setAttribute("aria-current", "true"); });
      if (!WSWindow.holds(it.start)) {  // a suggested claim elsewhere in a long text: its blocks first
        WSWindow.reveal(it.start).then((ok) => { if (ok && cur === it) setCurrent(it, scroll, focus); });
      }
      // focused and scrolled in the next frame, so the key press never waits for a layout of the text
      if (scroll || focus) {
        requestAnimationFrame(() => {
          if (cur !== it && !(cur && cur.key === it.key)) return;  // moved on meanwhile
          const el = currentElement();
          if (!el) return;
          if (focus) { el.tabIndex = -1; el.focus({ preventScroll: true }); }
          if (scroll) {
            if (isLink(it)) el.scrollIntoView({ block: "nearest" });
            WSFocus.reveal(isLink(it) ? lit[0] : el);
          }
        });
      }
    }
    renderBar();
  }

  /** The element standing for the current item: its first mark, or its row for a suggested
      claim or relation. */
  function currentElement() {
    if (!cur) return null;
    if (isLink(cur)) return linkRow(cur.key);
    const el = lit.find((m) => m.tagName === "MARK" && m.isConnected) || null;
    if (el && !el.hasAttribute("tabindex")) el.tabIndex = -1;
    return el;
  }

  function refresh() {  // once per answer: the same item by key, or the next one after its place
    const restore = () => WSFocus.restore(currentElement);  // when the answer swapped away what had the focus
    if (cur && !isLink(cur) && !WSWindow.holds(cur.start)) { renderBar(); return; }  // kept by key off the page
    const again = cur && find(cur.key, cur.block);
    if (!cur) renderBar();
    else if (again || isLink(cur)) setCurrent(again || null, false);
    else { go(cur, 1, null, (it) => { setCurrent(it, false); restore(); }); return; }
    restore();
  }

  // --- the line that says what is current --------------------------------------------------

  const SHORTCUT = { Esc: "Escape" };
  const shortcut = (key) => SHORTCUT[key] || (/^[A-Z]$/.test(key) ? `Shift+${key}` : key);

  /** A button of the current line: its name says what it acts on ("Accept suggestion 256
      gigabytes QUANTITY"); the keycap is for the eye, the shortcut in aria-keyshortcuts. */
  function button(label, act, key, about) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.act = act;
    b.textContent = label + " ";
    if (about) b.setAttribute("aria-label", `${label} ${about}`);
    if (key) {  // drawn by CSS from data-key: no text of the button's, so its name is its words
      const k = document.createElement("kbd");
      k.dataset.key = key;
      k.setAttribute("aria-hidden", "true");
      b.append(k);
      b.setAttribute("aria-keyshortcuts", shortcut(key));
    }
    return b;
  }

  /** The line saying what is current: rewritten only when what it says changed, as it is a
      live region (a rewrite would be read again). */
  function renderBar() {
    const bar = $("ws-current");
    if (!bar) return;
    const next = document.createElement("div");
    const mode = fillBar(next);
    if (bar.innerHTML === next.innerHTML && (bar.dataset.mode || "") === mode) return;
    if (mode) bar.dataset.mode = mode; else delete bar.dataset.mode;
    bar.replaceChildren(...next.childNodes);
  }

  function fillBar(bar) {
    if (relHead) {
      bar.append(`Relation from ${relHead.label} “${itemText(relHead)}”: pick the second span (j/k or click), then Enter. `,
                 button("Cancel", "cancel", "Esc", `the relation from ${itemText(relHead)}`));
      return "relation";
    }
    if (!cur) {
      bar.append("Nothing selected: j / k move through spans and suggestions, s through suggested claims and relations, " +
                 "w selects a word, ? shows all keys.");
      return "";
    }
    if (isLink(cur)) { renderLinkBar(bar); return ""; }
    const chip = document.createElement("span");
    chip.className = "chip " + (document.querySelector(`.pal[data-label="${CSS.escape(cur.label)}"]`)?.classList[1] || "lbl-other");
    chip.textContent = cur.label;
    const quote = document.createElement("q");
    quote.textContent = itemText(cur);
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = cur.kind === "g" ? "suggestion" : "confirmed";
    bar.append(chip, " ", quote, " ", kind, " ");
    const about = `${kind.textContent === "suggestion" ? "suggestion" : "span"} ${itemText(cur)} ${cur.label}`;
    if (cur.kind === "g") {
      bar.append(button("Accept", "accept", "a", about), button("Reject", "reject", "x", about));
    } else {
      bar.append(button("Delete", "delete", "x", about), button("Relation…", "relation", "R", `from ${about}`));
      if (cur.label === quantityLabel()) bar.append(button("Claim…", "claim", "C", `on ${about}`));
      bar.append(button("Grow ←", "grow-left", "[", about), button("Grow →", "grow-right", "]", about));
      bar.append(button("Confirm everywhere", "propagate", "E", about));
      if (urls().gazetteer) bar.append(button("Add to gazetteer", "gazetteer", "G", about));
    }
    return "";
  }

  function renderLinkBar(bar) {
    const quote = document.createElement("q");
    quote.textContent = itemText(cur);
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = cur.kind === "c" ? "suggested claim" : "suggested relation";
    const about = `${kind.textContent} ${itemText(cur)}`;
    bar.append(kind, " ", quote, " ", button("Accept", "accept", "a", about), button("Reject", "reject", "x", about));
    if (cur.kind === "c") bar.append(button("Correct…", "claim", "C", about));
  }

  /** A message of the page's own in the status line (ws-say.js reads it out). */
  function say(message) {
    const status = $("ws-status");
    if (!status) return;
    const box = document.createElement("div");
    box.id = "ws-message";
    box.className = "ws-msg ws-msg-info";
    box.dataset.kind = "info";
    const words = document.createElement("span");
    words.className = "ws-msg-text";
    words.textContent = message;
    box.append(words);
    status.replaceChildren(box);
  }

  // --- actions -----------------------------------------------------------------------------

  function selection() { return WSOffsets.selectionOffsets(text()); }

  function decide(decision, it, asLabel) {
    const values = { decision: decision, ids: num(it.key) };
    if (asLabel && asLabel !== it.label) values.as_label = asLabel;
    WSSave.post(urls().decide, values);
    go(it, 1, (x) => x.kind === "g" && x.key !== it.key, (next) => setCurrent(next, true, true));
  }

  /** Accept or reject a suggested claim or relation; the next one becomes current. */
  function decideLink(verb, it) {
    const name = (it.kind === "c" ? "claim" : "relation") + (verb === "accept" ? "Accept" : "Reject");
    WSSave.post(url(name, num(it.key)), {});
    setCurrent(nextLink(1) || nextLink(-1), true, true);
  }

  /** The span a propagation or gazetteer key acts on: the current span, else the one the
      status line offers to confirm everywhere (accepting a suggestion moves the cursor on). */
  function spanToCarry(it) {
    if (it && it.kind === "s") return it;
    const offer = document.querySelector("#ws-message [data-ws-propagate]");
    return offer ? { key: offer.dataset.wsPropagate, kind: "s" } : null;
  }

  function carry(what, it) {
    if (what === "gazetteer" && !urls().gazetteer) return say("Only curators and admins add names to the gazetteer.");
    const span = spanToCarry(it);
    if (!span) {
      const key = what === "gazetteer" ? "G to add its text to the gazetteer" : "E to confirm its text everywhere in this document";
      return say(`Pick a confirmed span first (j / k), then press ${key}.`);
    }
    WSSave.post(url(what, num(span.key)), {});
  }

  function labelKey(label) {
    const sel = selection();
    if (sel) {
      WSSave.post(urls().spans, { start: sel.start, end: sel.end, label: label });
      window.getSelection().removeAllRanges();
    } else if (cur && cur.kind === "s") {
      if (cur.label === label) return say(`Already ${label}.`);
      WSSave.post(url("span", num(cur.key)), { label: label });
    } else if (cur && cur.kind === "g") {
      decide("accepted", cur, label);
    } else {
      say("Select some text first (drag with the mouse, or w and Shift+→), then press a label key.");
    }
  }

  function act(name) {
    const it = cur;
    const span = it && it.kind === "s", sugg = it && it.kind === "g", link = isLink(it);
    const nudge = (edge, step) => span && WSSave.post(url("nudge", num(it.key)), { edge: edge, step: step });
    switch (name) {
      case "accept": if (sugg) decide("accepted", it); else if (link) decideLink("accept", it); break;
      case "reject":
        if (sugg) decide("rejected", it); else if (span) act("delete"); else if (link) decideLink("reject", it);
        break;
      case "delete":
        if (!span) break;
        WSSave.post(url("delete", num(it.key)), {});
        go(it, 1, null, (next) => setCurrent(next, true, true));
        break;
      case "grow-left": nudge("start", -1); break;
      case "grow-right": nudge("end", 1); break;
      case "shrink-left": nudge("start", 1); break;
      case "shrink-right": nudge("end", -1); break;
      case "bounds": {
        const sel = selection();
        if (span && sel) { WSSave.post(url("span", num(it.key)), { start: sel.start, end: sel.end }); window.getSelection().removeAllRanges(); }
        else say("Select the new extent of the span first, then press e.");
        break;
      }
      case "relation":
        if (!span) { say("A relation joins two confirmed spans: accept or mark this one first."); break; }
        relHead = it; renderBar(); break;
      case "claim":
        if (link && it.kind === "c") {  // accepted at once; the answer brings the form on it
          WSSave.post(url("claimCorrect", num(it.key)), {});
          setCurrent(nextLink(1) || nextLink(-1), false);
          break;
        }
        if (!span || !quantityLabel() || it.label !== quantityLabel()) {
          say(quantityLabel() ? `A claim starts from a ${quantityLabel()} span.` : "This label scheme has no quantity label, so no claims."); break;
        }
        htmx.ajax("GET", urls().claimForm + "?quantity=" + num(it.key), { source: ws(), target: "#ws-form", swap: "innerHTML" });
        break;
      case "propagate": case "gazetteer": carry(name, it); break;
      case "cancel": relHead = null; renderBar(); break;
    }
  }

  function pickChild(it) {
    if (!it || it.kind !== "s" || it.key === relHead.key) return say("Pick a different confirmed span as the second one.");
    const q = `?head=${num(relHead.key)}&child=${num(it.key)}`;
    relHead = null;
    renderBar();
    htmx.ajax("GET", urls().relationForm + q, { source: ws(), target: "#ws-form", swap: "innerHTML" });
  }

  /** Close the open form; the focus goes back to what opened it, or the current item. */
  function closeForm() {
    const slot = $("ws-form");
    if (!slot || !slot.firstElementChild) return;
    const inside = slot.contains(document.activeElement);
    slot.replaceChildren();
    if (inside || WSFocus.lost()) WSFocus.restore(currentElement);
  }

  /** A form just came in: its first field takes the focus and it comes on screen; a relation
      form with no allowed label says so aloud and offers its Cancel button. */
  function formOpened(form) {
    const first = form.querySelector("#cf-value, [data-choice]");
    if (first) {
      WSFocus.opened(form, first);
      if (first.select) first.select();
      return;
    }
    WSFocus.opened(form, form.querySelector("[data-ws-close]"));
    const hint = form.querySelector(".hint");
    if (hint) WSSay.polite(hint.textContent.trim().replace(/\s+/g, " "));
  }
  const click = (id) => { const el = $(id); if (el && !el.disabled) el.click(); };

  /** Select the next (dir 1) or previous word from the selection, the current item or the
      top of the screen, by the server's tokens. */
  function wordFrom(dir) {
    const sel = selection();
    const from = sel ? (dir > 0 ? sel.end : sel.start) : cur ? (dir > 0 ? cur.end : cur.start) : firstVisible();
    later(WSFind.word(from, dir).then((got) => (got ? pick(got) : say("No more words that way."))));
  }

  // A word step waits for the server's tokens the first time; keys pressed meanwhile wait
  // their turn, so "w Shift+→ o" marks what the steps selected.
  let busy = null;
  const waiting = [];
  function later(promise) {
    busy = WSSave.hold(promise).finally(() => {
      busy = null;
      while (waiting.length && !busy) { const e = waiting.shift(); if (e.altKey) altKey(e); else handle(e); }
    });
  }

  let picked = null;  // the last selection made by keys, announced once
  function pick(range) {
    WSOffsets.selectOffsets(text(), range.start, range.end);
    const got = selection();
    if (!got) return;
    const node = window.getSelection().focusNode;
    const el = node && (node.nodeType === Node.TEXT_NODE ? node.parentElement : node);
    if (el && el.scrollIntoView) el.scrollIntoView({ block: "nearest" });
    const said = `Selected “${got.text}”: press a label key to mark it`;
    if (said !== picked) say(said);
    picked = said;
  }

  /** Accept every pending suggestion with `label`, asking first above the page's limit. */
  function acceptLabel(label) {
    const row = document.querySelector(`#ws-suggestions li[data-label="${CSS.escape(label)}"] .n`);
    const n = row ? +row.textContent.replace(/\D/g, "") : 0;
    if (!n) return say(`No pending ${label} suggestions.`);
    if (n > (+ws().dataset.confirmOver || 50) && !window.confirm(`Accept all ${n} pending ${label} suggestions?`)) return;
    WSSave.post(urls().decide, { decision: "accepted", scope: "all", label: label });
  }

  function firstVisible() {
    for (const b of text().children) if (b.getBoundingClientRect().bottom > 0) return +b.dataset.start;
    return 0;
  }

  // --- keyboard ------------------------------------------------------------------------------

  const SIMPLE = { a: "accept", x: "reject", Delete: "reject", Backspace: "reject", "[": "grow-left", "]": "grow-right",
                   "{": "shrink-left", "}": "shrink-right", e: "bounds", R: "relation", C: "claim",
                   E: "propagate", G: "gazetteer" };

  function onKey(e) {
    if (!ws()) return;
    const help = $("ws-help");
    if (help && help.open) { if (e.key === "?" || e.key === "Escape") { help.close(); e.preventDefault(); } return; }
    const field = e.target.closest && e.target.closest("input, select, textarea, [contenteditable]");
    if (e.key === "Escape") {
      if ($("ws-form").firstElementChild) closeForm();
      else if (relHead) act("cancel");
      else if (selection()) window.getSelection().removeAllRanges();
      else setCurrent(null);
      if (field && field.isConnected) { field.blur(); WSFocus.restore(currentElement); }
      return;
    }
    if (field) {
      // Enter saves from any control of a form, selects and checkboxes included (Alt+↓ or
      // Space opens a select's list); Shift+Enter is left to the field
      if (e.key === "Enter" && !e.shiftKey && !e.altKey && field.form && field.tagName !== "TEXTAREA") {
        e.preventDefault();
        field.form.requestSubmit();
      }
      return;
    }
    if ((e.ctrlKey || e.metaKey) && !e.altKey) {
      const k = e.key.toLowerCase();
      if (k === "z") { e.preventDefault(); WSSave.post(e.shiftKey ? urls().redo : urls().undo, {}); }
      else if (k === "y") { e.preventDefault(); WSSave.post(urls().redo, {}); }
      return;
    }
    if (busy && !["Shift", "Control", "Alt", "Meta"].includes(e.key)) {  // replayed when the step is done
      waiting.push({ key: e.key, code: e.code, shiftKey: e.shiftKey, altKey: e.altKey, target: e.target });
      e.preventDefault();
      return;
    }
    if (e.altKey) { if (altKey(e)) e.preventDefault(); return; }
    const onControl = e.target.closest && e.target.closest("button, a");
    if (e.key === "Enter" && onControl) return;  // let a focused button or link do its job
    if (handle(e)) e.preventDefault();
  }

  // The workspace's own keys win over a label configuration's hotkeys (a project file could
  // give a label "a" or "j"); such a label is still one click away on the palette.
  const COMMANDS = new Set(["j", "k", "n", "w", "b", "a", "x", "e", "u", "U", "A", "X", "L", "D", "N", "P", "R", "C",
                            "s", "S", "E", "G", "?", "[", "]", "{", "}", "f", "F", "/"]);

  let seek = 0;  // after f (1) or F (-1): the next label key jumps to that label's next pending suggestion

  function seekLabel(dir, label) {
    go(cur, dir, (x) => x.kind === "g" && x.label === label, (it) => {
      if (it) setCurrent(it, true, true);
      else say(`No more pending ${label} suggestions ${dir > 0 ? "after" : "before"} this point.`);
    });
  }

  /** Alt + a label key: with a search, mark every match with that label. */
  function altKey(e) {
    const m = /^(?:Key([A-Z])|Digit([0-9]))$/.exec(e.code || "");
    if (!m) return false;
    const letter = m[1] ? (e.shiftKey ? m[1] : m[1].toLowerCase()) : m[2];
    const pal = document.querySelector(`.pal[data-hotkey="${CSS.escape(letter)}"]`);
    if (!pal) return false;
    const all = WSFind.matches();
    if (!all.length) { say("Find some text first (/), then Alt with a label key marks every match."); return true; }
    const label = pal.dataset.label;
    const n = all.length, over = +ws().dataset.confirmOver || 50;
    if (n > over && !window.confirm(`Mark all ${n} matches of “${WSFind.query()}” ${label}?`)) return true;
    WSSave.post(urls().spansMany, { label: label, ranges: all.map((x) => `${x.start}-${x.end}`).join(",") });
    WSFind.close(false);
    window.getSelection().removeAllRanges();
    return true;
  }

  function handle(e) {
    const key = e.key;
    if (["Shift", "Control", "Alt", "Meta", "CapsLock"].includes(key)) return false;
    if (seek) {
      const dir = seek, pal = document.querySelector(`.pal[data-hotkey="${CSS.escape(key)}"]`);
      seek = 0;
      if (pal) { seekLabel(dir, pal.dataset.label); return true; }
      if (key.length === 1) { say(`${key} is no label key: f or F then a label key jumps to that label's next or previous suggestion.`); return true; }
    }
    if (key === "f" || key === "F") { seek = key === "f" ? 1 : -1; say("Jump to the next pending suggestion of which label? Press its key."); return true; }
    if (key === "/") { WSFind.open(selection() ? selection().end : cur ? cur.start : firstVisible()); return true; }
    const chooser = document.querySelector("#relation-form [data-choice]");
    if (chooser && /^[1-9]$/.test(key)) { document.querySelector(`#relation-form [data-choice="${key}"]`)?.click(); return true; }
    const hotkey = !COMMANDS.has(key) && document.querySelector(`.pal[data-hotkey="${CSS.escape(key)}"]`);
    if (hotkey) { labelKey(hotkey.dataset.label); return true; }
    if (key === "Enter") { relHead ? pickChild(cur) : act("accept"); return true; }
    if (SIMPLE[key]) { act(SIMPLE[key]); return true; }
    switch (key) {
      case "j": case "k": {  // while building a relation only confirmed spans can be picked
        const only = relHead ? (x) => x.kind === "s" : null;
        go(cur, key === "j" ? 1 : -1, only, (it) => setCurrent(it || cur, true, true));
        return true;
      }
      case "n": go(cur, 1, (x) => x.kind === "g", (it) => setCurrent(it || cur, true, true)); return true;
      case "s": case "S": {
        const next = nextLink(key === "s" ? 1 : -1);
        if (next) setCurrent(next, true, true);
        else say(links().length ? "No more suggested claims or relations that way." : "No suggested claims or relations are pending.");
        return true;
      }
      case "w": wordFrom(1); return true;
      case "b": wordFrom(-1); return true;
      case "u": WSSave.post(urls().undo, {}); return true;
      case "U": WSSave.post(urls().redo, {}); return true;
      case "A": click("ws-accept-all"); return true;
      case "X": click("ws-reject-all"); return true;
      case "L": if (cur && !isLink(cur)) acceptLabel(cur.label); return true;
      case "D": click("ws-done"); return true;
      case "N": click("ws-next"); return true;
      case "P": click("ws-prev"); return true;
      case "?": $("ws-help").showModal(); return true;
    }
    if ((key === "ArrowRight" || key === "ArrowLeft") && e.shiftKey) {
      const sel = selection(), dir = key === "ArrowRight" ? 1 : -1;
      if (!sel) wordFrom(dir);
      else later(WSFind.extend(sel, dir).then((got) => (got ? pick(got) : say("The selection cannot move further that way."))));
      return true;
    }
    return false;
  }

  // --- pointer -------------------------------------------------------------------------------

  function onClick(e) {
    const t = e.target;
    if (t.closest("[data-ws-close]")) { closeForm(); return; }
    if (t.closest("[data-ws-help]")) { $("ws-help").showModal(); return; }
    if (t.closest("[data-ws-close-help]")) { $("ws-help").close(); return; }
    const pal = t.closest(".pal");
    if (pal) { labelKey(pal.dataset.label); return; }
    const offer = t.closest("#ws-message [data-ws-propagate]");
    if (offer) { carry("propagate", null); return; }
    const action = t.closest("#ws-current [data-act]");
    if (action) { act(action.dataset.act); return; }
    const row = t.closest("[data-ws-focus]");
    if (row) {
      const it = find(row.dataset.wsFocus);
      if (it || !row.dataset.start) setCurrent(it, true);
      else WSWindow.reveal(+row.dataset.start).then(() => setCurrent(find(row.dataset.wsFocus), true));  // elsewhere in a long text
      return;
    }
    const mark = t.closest("#doc-text mark");
    if (!mark || selection()) return;
    const keys = mark.dataset.i.split(" ").map((w) => w.slice(0, w.indexOf(":")));
    const block = mark.closest(".blk").id;
    if (relHead) { pickChild(find(keys.find((k) => k[0] === "s") || keys[0], block)); return; }
    const at = cur ? keys.indexOf(cur.key) : -1;
    setCurrent(find(keys[(at + 1) % keys.length], block), false, true);  // clicking again cycles overlapping items
  }

  function init() {
    if (init.done) return;
    init.done = true;
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    // palette buttons must not take the focus or clear the text selection
    document.addEventListener("mousedown", (e) => { if (e.target.closest(".pal, #ws-current [data-act]")) e.preventDefault(); });
    // htmx:afterSwap fires once per swapped element (the target and every out-of-band one):
    // the current item is re-found once, when the whole answer is in.
    document.addEventListener("htmx:afterRequest", refresh);
    document.addEventListener("ws-focus", (e) => { const it = find(e.detail.key); if (it) setCurrent(it, true); });
    document.addEventListener("htmx:load", (e) => {
      const elt = e.detail.elt;
      const form = elt.matches && elt.matches("#claim-form, #relation-form") ? elt : elt.querySelector && elt.querySelector("#claim-form, #relation-form");
      if (form) formOpened(form);
    });
    for (const pal of document.querySelectorAll(".pal[data-hotkey]")) {
      if (COMMANDS.has(pal.dataset.hotkey)) {
        pal.classList.add("clash");
        pal.title = `${pal.title} (its hotkey ${pal.dataset.hotkey} is a workspace command: click to use this label)`;
      }
    }
    renderBar();
  }

  htmx.onLoad(() => { if (ws()) init(); });  // listeners are delegated: bound once, on the first load
  window.WSKeys = { ready: () => !!init.done, current: () => cur, currentText: () => (cur ? itemText(cur) : null), items: () => items(),
                    setCurrent: (key) => setCurrent(find(key), true, true) };
})();
