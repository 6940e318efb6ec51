/* One-click copy on exchange pages: the embed builder's codes, the citations, a stage's link.
 * Everything works without this (the codes and citations are on the page, a stage heading is
 * its permalink), and htmx refreshes the builder's preview and codes as options change. */
(function () {
  "use strict";

  var clipboard = !!(navigator.clipboard && window.isSecureContext);

  function reveal(root) {
    var buttons = root.querySelectorAll ? root.querySelectorAll("button[data-copy][hidden], button[data-copy-text][hidden]") : [];
    Array.prototype.forEach.call(buttons, function (button) {
      // A link has no field to select for the old way: its button needs the clipboard API.
      if (clipboard || button.hasAttribute("data-copy")) button.hidden = false;
    });
  }

  function copied(button) {
    var status = button.nextElementSibling;
    if (status) status.textContent = button.getAttribute("data-copied") || "";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy], button[data-copy-text]");
    if (!button) return;
    var code = document.getElementById(button.getAttribute("data-copy"));
    var text = button.hasAttribute("data-copy-text") ? button.getAttribute("data-copy-text") : code && code.value;
    if (text === null || text === undefined) return;
    if (clipboard) {
      navigator.clipboard.writeText(text).then(function () { copied(button); });
      return;
    }
    if (!code) return;
    code.focus();
    code.select();
    if (document.execCommand("copy")) copied(button);  // plain-http previews: the old way
  });
  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  } else {
    reveal(document);
  }
})();
