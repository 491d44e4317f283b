/* Relations drawn over the text: an arc from the head span to the child span with the label at
   its top, from the relation list's data-head / data-child. Redrawn after every swap and on
   resize; the layer is aria-hidden (the list in the side panel is the accessible version). */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function draw() {
    const svg = document.getElementById("ws-arcs"), text = document.getElementById("doc-text");
    if (!svg || !text) return;
    const rows = document.querySelectorAll("#ws-relations .ws-rel");
    if (!rows.length) { if (svg.firstChild) svg.replaceChildren(); return; }  // nothing to measure
    const pane = svg.parentElement.getBoundingClientRect();
    svg.setAttribute("width", pane.width);
    svg.setAttribute("height", pane.height);
    const marker = el("marker", { id: "ws-arrow", viewBox: "0 0 8 8", refX: "7", refY: "4", markerWidth: "7",
                                  markerHeight: "7", orient: "auto-start-reverse" });
    marker.append(el("path", { d: "M0,0 L8,4 L0,8 z", class: "ws-arc-head" }));
    const defs = el("defs", {});
    defs.append(marker);
    svg.replaceChildren(defs);
    for (const row of rows) {
      const head = text.querySelector(`mark[data-i~="${CSS.escape(row.dataset.head)}"]`);
      const child = text.querySelector(`mark[data-i~="${CSS.escape(row.dataset.child)}"]`);
      if (!head || !child) continue;
      const a = head.getBoundingClientRect(), b = child.getBoundingClientRect();
      const x1 = a.left + a.width / 2 - pane.left, y1 = a.top - pane.top;
      const x2 = b.left + b.width / 2 - pane.left, y2 = b.top - pane.top;
      const lift = Math.min(46, 16 + Math.abs(x2 - x1) / 8 + Math.abs(y2 - y1) / 6);
      const top = Math.min(y1, y2) - lift;
      const g = el("g", { class: "ws-arc", "data-rel": row.dataset.rel });
      g.append(el("path", { d: `M${x1},${y1} C${x1},${top} ${x2},${top} ${x2},${y2 - 2}`, "marker-end": "url(#ws-arrow)" }));
      const label = el("text", { x: (x1 + x2) / 2, y: top + lift * 0.25, "text-anchor": "middle" });
      label.textContent = row.dataset.label;
      g.append(label);
      svg.append(g);
    }
  }

  let queued = false;
  function later() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; draw(); });
  }

  function hover(e) {
    const row = e.target.closest && e.target.closest("#ws-relations .ws-rel");
    const on = e.type === "mouseover";
    if (!row) return;
    document.querySelectorAll(`.ws-arc[data-rel="${row.dataset.rel}"]`).forEach((g) => g.classList.toggle("hot", on));
    for (const word of [row.dataset.head, row.dataset.child]) {
      document.querySelectorAll(`#doc-text mark[data-i~="${CSS.escape(word)}"]`).forEach((m) => m.classList.toggle("linked", on));
    }
  }

  htmx.onLoad(later);  // first load and every swap (blocks move, relations change)
  document.addEventListener("ws-window", later);  // a long text's window moved
  window.addEventListener("resize", later);
  document.addEventListener("mouseover", hover);
  document.addEventListener("mouseout", hover);
  if (document.fonts) document.fonts.ready.then(later);
  window.WSArcs = { draw };
})();
