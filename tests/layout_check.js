// What the staff pages' browser tests check on every page (tests/test_staff_browser.py): boxes
// that overlap one another (an element and its own descendants may), labels of three words or
// more laid out one word per line, and sideways scrolling. Evaluated as one function.
() => {
  const selector = "button, input:not([type=hidden]), select, textarea, a, label, h1, h2, th, legend,"
    + " summary, .figure, .flash, .alert, .choice, .ticket-found p";
  const boxes = [...document.querySelectorAll(selector)].filter((el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && !el.closest("[hidden], details:not([open]) > :not(summary)");
  });
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i], ra = a.getBoundingClientRect();
    for (let j = i + 1; j < boxes.length; j++) {
      const b = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const rb = b.getBoundingClientRect();
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2) overlaps.push(`${describe(a)} × ${describe(b)}`);
    }
  }
  // A label of three words or more laid out one word per line.
  const broken = [];
  for (const el of document.querySelectorAll("label, th, button, legend, h2, .figure .label")) {
    const words = el.innerText.trim().split(/\s+/).filter(Boolean);
    if (words.length < 3) continue;
    // The lines of its text only: a checkbox or a number field beside it is not a word.
    const tops = new Set();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    if (tops.size >= words.length) broken.push(describe(el));
  }
  const sideways = document.scrollingElement.scrollWidth > window.innerWidth + 1;
  return { overlaps: overlaps.slice(0, 10), broken: broken.slice(0, 10), sideways };
  function describe(el) {
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}("${(el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 30)}")`;
  }
}
