// The timeline with htmx: while new results load, they are marked busy (screen readers wait,
// sighted readers see them dim); after "Older stages" or a removed filter, the reader lands at
// the top of the new results, on their count, instead of at the bottom of the old page.
(function () {
  "use strict";

  var results = function () { return document.getElementById("timeline-results"); };

  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = results();
    if (box && event.detail.target === box) box.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var box = results();
    if (!box || event.detail.target !== box) return;
    box.removeAttribute("aria-busy");
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (from && from.closest && from.closest(".pager, .active-filters")) {
      var count = document.getElementById("result-count");
      if (count) {
        count.focus({ preventScroll: true });
        box.scrollIntoView({ block: "start" });
      }
    }
  });

  // A failed request ends too: never leave the results marked busy.
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function () {
      var box = results();
      if (box) box.removeAttribute("aria-busy");
    });
  });
})();
