/* Selections as code-point offsets into the stored text.

   The DOM counts UTF-16 units (an emoji is 2) and splits the text into nodes at every mark;
   the server counts code points. A point's offset is its block's code-point start plus the
   code points of the text from the block's beginning to the point, so a browser index never
   leaves the page and the work per selection is one block, not the whole document.
   The server snaps whatever arrives to its own token boundaries. */
(function () {
  "use strict";

  function codePoints(str) {
    let n = 0;
    for (const _ of str) n++;  // iterates by code point: a surrogate pair counts once
    return n;
  }

  /** Code-point offset of the DOM point (node, offset) inside #doc-text, or null. */
  function pointOffset(root, node, offset) {
    if (node === root) {  // between two blocks
      const next = root.childNodes[offset];
      return next && next.dataset ? +next.dataset.start : +root.dataset.chars;
    }
    const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    const block = el && el.closest(".blk");
    if (!block || !root.contains(block)) return null;
    const range = document.createRange();
    range.setStart(block, 0);
    range.setEnd(node, offset);
    return +block.dataset.start + codePoints(range.toString());
  }

  /** The current selection clipped to #doc-text, as {start, end, text} in code points, or null. */
  function selectionOffsets(root) {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0).cloneRange();
    const whole = document.createRange();
    whole.selectNodeContents(root);
    if (range.compareBoundaryPoints(Range.END_TO_START, whole) >= 0 ||
        range.compareBoundaryPoints(Range.START_TO_END, whole) <= 0) return null;  // outside the text
    if (range.compareBoundaryPoints(Range.START_TO_START, whole) < 0) range.setStart(whole.startContainer, whole.startOffset);
    if (range.compareBoundaryPoints(Range.END_TO_END, whole) > 0) range.setEnd(whole.endContainer, whole.endOffset);
    const start = pointOffset(root, range.startContainer, range.startOffset);
    const end = pointOffset(root, range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return null;
    return { start: start, end: end, text: range.toString() };
  }

  /** The DOM point of code-point offset `cp` (the inverse of pointOffset). */
  function domPoint(root, cp) {
    const blocks = root.children;
    let block = blocks[0];
    for (const b of blocks) { if (+b.dataset.start <= cp) block = b; else break; }
    let left = cp - +block.dataset.start;
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode(), last = node;
    while (node) {
      let units = 0;
      for (const ch of node.data) {
        if (left === 0) return { node: node, offset: units };
        units += ch.length;
        left--;
      }
      if (left === 0) return { node: node, offset: units };
      last = node;
      node = walker.nextNode();
    }
    return { node: last || block, offset: last ? last.data.length : 0 };
  }

  /** Select [start, end) given in code points (tests and keyboard selection use it). */
  function selectOffsets(root, start, end) {
    const a = domPoint(root, start), b = domPoint(root, end);
    window.getSelection().setBaseAndExtent(a.node, a.offset, b.node, b.offset);
  }

  /** Select the word after (dir 1) or before (dir -1) `from` (a code-point offset). */
  function selectWord(root, from, dir) {
    const sel = window.getSelection();
    const p = domPoint(root, from);
    sel.collapse(p.node, p.offset);
    const there = dir > 0 ? "forward" : "backward", back = dir > 0 ? "backward" : "forward";
    sel.modify("move", there, "word");
    const far = { node: sel.focusNode, offset: sel.focusOffset };
    sel.modify("move", back, "word");
    const near = { node: sel.focusNode, offset: sel.focusOffset };
    const [a, b] = dir > 0 ? [near, far] : [far, near];
    sel.setBaseAndExtent(a.node, a.offset, b.node, b.offset);
    const got = selectionOffsets(root);
    if (got && got.text.trim() === "" ) return null;
    return got;
  }

  /** Grow (dir 1) or shrink (dir -1) the selection's end by a word. */
  function extendWord(root, dir) {
    const sel = window.getSelection();
    if (!sel.rangeCount || !root.contains(sel.anchorNode)) return null;
    sel.modify("extend", dir > 0 ? "forward" : "backward", "word");
    return selectionOffsets(root);
  }

  window.WSOffsets = { codePoints, pointOffset, selectionOffsets, domPoint, selectOffsets, selectWord, extendWord };
})();
