// The public page of waits across centers reloads its own list: the same page, fetched again,
// its #waits part swapped in (the words stay the server's, in the page's language). A failed
// fetch leaves the list as it was; its "updated" time then says how old it is.
(function () {
  "use strict";
  var list = document.getElementById("waits");
  if (!list) { return; }
  var every = Math.max(1, Number(list.dataset.refreshS) || 30) * 1000;
  function refresh() {
    fetch(window.location.href, { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("waits");
        if (fresh) { list.replaceChildren.apply(list, Array.from(fresh.childNodes)); }
      })
      .catch(function () { /* offline for a moment: try again at the next turn */ })
      .finally(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
}());
