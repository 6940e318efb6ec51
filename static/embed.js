/* Swap Tally's host script, for pages that embed its widgets (README, "Embedding").
 *
 * Turns <div data-swaptally="{slug}" data-theme data-lang data-side data-party data-view data-as-of
 * data-transparent data-poll data-height> into a lazy widget iframe, and sizes every Swap Tally
 * iframe on the page from the height its widget posts. A message counts only when it comes
 * from this script's origin and from the window of one of those iframes (event.source).
 * Load it as many times as you like; window.SwapTally.scan() picks up widgets added later.
 */
(function () {
  "use strict";
  if (window.SwapTally) {
    window.SwapTally.scan();
    return;
  }
  var script = document.currentScript;
  var origin = new URL(script && script.src ? script.src : "/", location.href).origin;
  var SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  var OPTIONS = { theme: "theme", lang: "lang", side: "side", party: "party", view: "view",
                  "as-of": "as_of", transparent: "transparent", poll: "poll" };
  var SCHEMES = { light: "light", dark: "dark" };
  var DEFAULT_HEIGHT = 250;

  function isWidget(frame) {
    return (frame.src || "").indexOf(origin + "/embed/") === 0;
  }

  function build(holder) {
    var slug = holder.getAttribute("data-swaptally") || "";
    holder.setAttribute("data-swaptally-ready", "");
    if (!SLUG.test(slug)) return;
    var query = [];
    Object.keys(OPTIONS).forEach(function (name) {
      var value = holder.getAttribute("data-" + name);
      // Commas stay readable in party=ukraine,russia; the widget reads them either way.
      if (value) query.push(OPTIONS[name] + "=" + encodeURIComponent(value).replace(/%2C/g, ","));
    });
    var frame = document.createElement("iframe");
    frame.src = origin + "/embed/" + slug + (query.length ? "?" + query.join("&") : "");
    frame.title = holder.getAttribute("data-title") || holder.textContent.trim() || "Swap Tally";
    frame.setAttribute("loading", "lazy");
    frame.setAttribute("scrolling", "no");
    frame.setAttribute("data-swaptally-frame", slug);
    var height = parseInt(holder.getAttribute("data-height"), 10) || DEFAULT_HEIGHT;
    var scheme = SCHEMES[holder.getAttribute("data-theme")] || "light dark";
    frame.style.cssText = "border:0;width:100%;display:block;height:" + height + "px;color-scheme:" + scheme;
    holder.textContent = "";
    holder.appendChild(frame);
  }

  function scan() {
    var holders = document.querySelectorAll("div[data-swaptally]:not([data-swaptally-ready])");
    Array.prototype.forEach.call(holders, build);
  }

  function resize(frame, message) {
    frame.style.height = Math.ceil(message.height) + "px";
    if (typeof message.title === "string" && message.title) frame.title = message.title;
    // The blockquote before it is for readers without iframes: this one works, so hide it.
    var quote = frame.previousElementSibling;
    if (quote && quote.tagName === "BLOCKQUOTE" && quote.hasAttribute("data-swaptally")) {
      quote.hidden = true;
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin) return;
    var message = event.data;
    if (typeof message === "string") {
      try { message = JSON.parse(message); } catch (error) { return; }
    }
    if (!message || message.swaptally !== "height") return;
    var height = Number(message.height);
    if (!(height > 0 && height < 20000)) return;
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source && isWidget(frames[i])) {
        resize(frames[i], message);
        return;
      }
    }
  });

  window.SwapTally = { scan: scan, origin: origin };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
