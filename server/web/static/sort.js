// Click a column heading to sort its table; click again to reverse. Numbers sort as numbers
// (cells carry their raw value in data-value, "–" sorting as -1).
"use strict";
for (const table of document.querySelectorAll("table.sortable")) {
  const headings = [...table.tHead.rows[0].cells];
  headings.forEach((heading, column) => {
    heading.tabIndex = 0;
    heading.setAttribute("aria-sort", "none");
    const sort = () => {
      const ascending = heading.getAttribute("aria-sort") !== "ascending";
      const numeric = heading.dataset.sort === "number";
      const key = (row) => {
        const cell = row.cells[column];
        const raw = cell.dataset.value ?? cell.textContent.trim();
        return numeric ? Number(raw) : raw;
      };
      const rows = [...table.tBodies[0].rows];
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        const order = numeric ? x - y : String(x).localeCompare(String(y), document.documentElement.lang || "az");
        return ascending ? order : -order;
      });
      table.tBodies[0].append(...rows);
      headings.forEach((h) => h.setAttribute("aria-sort", "none"));
      heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    };
    heading.addEventListener("click", sort);
    heading.addEventListener("keydown", (event) => { if (event.key === "Enter") sort(); });
  });
}
