// Curation by keyboard: j/k move a cursor through the versions of open conflicts (then any
// open item), a/Enter accept and x rejects the version under it, 1..9 accept annotator n's
// version of that conflict, g opens the gold workspace, ? shows the keys. The writes are the
// board's own forms (htmx posts them), so the server decides and the board is swapped whole;
// the cursor is kept by the row's key across the swap.
(function () {
  "use strict";
  let currentKey = null;

  const board = () => document.getElementById("cur-board");
  const dialog = () => document.getElementById("cur-help");

  function candidates() {
    const b = board();
    if (!b) return [];
    const conflicts = [...b.querySelectorAll("tr.cur-row.state-conflict.is-open")];
    return conflicts.length ? conflicts : [...b.querySelectorAll("tr.cur-row.is-open")];
  }

  function rowOf(key) {
    return key ? board().querySelector(`tr.cur-row[data-key="${CSS.escape(key)}"]`) : null;
  }

  function announce(text) {
    const line = document.getElementById("cur-cursor");
    if (line) line.textContent = text;
  }

  function place(row, focus = true) {
    board().querySelectorAll("tr.cur-row.is-current").forEach((r) => r.classList.remove("is-current"));
    board().querySelectorAll("mark.cur-here").forEach((m) => m.classList.remove("cur-here"));
    currentKey = row ? row.dataset.key : null;
    if (!row) {
      announce("Nothing left open");
      return;
    }
    row.classList.add("is-current");
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
    markText(row);
    const list = candidates();
    announce(`${list.indexOf(row) + 1} of ${list.length}: ${row.getAttribute("aria-label")}`);
  }

  // the span's stretch of the curation text, ringed and scrolled into its pane
  function markText(row) {
    const { start, end } = row.dataset;
    if (start === undefined) return; // relations and claims have no one stretch
    const marks = [...document.querySelectorAll("#cur-text mark")].filter(
      (m) => +m.dataset.start >= +start && +m.dataset.end <= +end,
    );
    marks.forEach((m) => m.classList.add("cur-here"));
    if (marks[0]) marks[0].scrollIntoView({ block: "nearest" });
  }

  function step(delta) {
    const list = candidates();
    if (!list.length) return place(null);
    const at = list.indexOf(rowOf(currentKey));
    const next = at < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + delta));
    place(list[next]);
  }

  function submit(row, selector) {
    const button = row && row.querySelector(selector);
    if (!button) {
      announce(row ? "That is not possible for this version" : "No version under the cursor: press j first");
      return;
    }
    button.form.requestSubmit(button);
  }

  function pickAnnotator(n) {
    const row = rowOf(currentKey);
    const names = (board().dataset.annotators || "").split(" ").filter(Boolean);
    const name = names[n - 1];
    if (!row || !name) return announce(name ? "Press j first" : `There is no annotator ${n}`);
    const version = [...board().querySelectorAll(`tr.cur-row[data-group="${CSS.escape(row.dataset.group)}"]`)].find(
      (r) => r.dataset.by.split(" ").includes(name),
    );
    if (!version) return announce(`${name} has no version of this item`);
    currentKey = version.dataset.key;
    submit(version, "button.cur-accept");
  }

  let opener = null;
  function openHelp() {
    opener = document.activeElement;
    dialog().showModal(); // modal: the rest of the page is inert until it closes
    document.getElementById("cur-help-close").focus();
  }

  // a modal dialog lets Tab out to the browser's own controls: keep it cycling inside
  function trapTab(e) {
    const inside = [...dialog().querySelectorAll("button, [href], input, select, textarea, [tabindex]")].filter(
      (el) => !el.disabled && el.tabIndex >= 0,
    );
    if (!inside.length) return;
    const at = inside.indexOf(document.activeElement);
    const next = e.shiftKey ? (at <= 0 ? inside.length - 1 : at - 1) : (at + 1) % inside.length;
    e.preventDefault();
    inside[next].focus();
  }

  function typing(target) {
    return target.closest("input, select, textarea, [contenteditable]");
  }

  document.addEventListener("keydown", (e) => {
    if (!board() || e.ctrlKey || e.metaKey || e.altKey) return;
    if (dialog().open) {
      if (e.key === "?") dialog().close(); // Escape closes it natively
      if (e.key === "Tab") trapTab(e);
      return;
    }
    if (typing(e.target)) return;
    const onRow = e.target.closest && e.target.closest("tr.cur-row");
    const keys = {
      j: () => step(1),
      k: () => step(-1),
      a: () => submit(rowOf(currentKey), "button.cur-accept"),
      x: () => submit(rowOf(currentKey), "button.cur-reject"),
      g: () => document.getElementById("cur-edit-gold").click(),
      "?": openHelp,
    };
    if (e.key === "Enter" && onRow) keys.Enter = keys.a; // Enter on a button still presses it
    let act = keys[e.key];
    if (!act && /^[1-9]$/.test(e.key)) act = () => pickAnnotator(+e.key);
    if (!act) return;
    e.preventDefault();
    act();
  });

  // after a write the board is new: put the cursor back, or on the next open item
  document.addEventListener("htmx:afterSettle", () => {
    if (!board() || currentKey === null) return;
    const row = rowOf(currentKey);
    if (row && row.classList.contains("is-open")) return place(row);
    step(1);
  });

  document.addEventListener("click", (e) => {
    if (e.target.closest("#cur-keys-button")) openHelp();
    else if (e.target.closest("#cur-help-close")) dialog().close();
  });
  document.addEventListener(
    "close",
    (e) => {
      if (e.target.id !== "cur-help") return;
      const back = opener && opener.isConnected ? opener : document.getElementById("cur-keys-button");
      back.focus();
    },
    true,
  );
})();
