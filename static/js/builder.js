/* The embed builder on exchange pages: one-click copy of each code. The form itself works
 * without this (a GET form), and htmx refreshes the preview and the codes as options change. */
(function () {
  "use strict";

  function reveal(root) {
    var buttons = root.querySelectorAll ? root.querySelectorAll("button[data-copy][hidden]") : [];
    Array.prototype.forEach.call(buttons, function (button) { button.hidden = false; });
  }

  function copied(button) {
    var status = button.nextElementSibling;
    if (status) status.textContent = button.getAttribute("data-copied") || "";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var code = document.getElementById(button.getAttribute("data-copy"));
    if (!code) return;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.value).then(function () { copied(button); });
      return;
    }
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
