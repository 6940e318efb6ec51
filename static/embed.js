/* Swap Tally's host script, for pages that embed its widgets (README, "Embedding").
 *
 * Turns <div data-swaptally="{slug}" data-theme data-lang data-side data-party data-view data-as-of
 * data-transparent data-poll data-height> into a lazy widget iframe, and sizes every Swap Tally
 * iframe on the page from the height its widget posts. A message counts only when it comes
 * from this script's origin and from the window of one of those iframes (event.source).
 * Load it as many times as you like; window.SwapTally.scan() picks up widgets added later.
 *
 * One representation at a time: an iframe that stands beside its text (the embed code's
 * blockquote, or the div's own content) loads unseen, in place and full width, and takes the
 * text's place only once its widget reports its height; until then, or if it never does, the
 * text stays. Embed codes hide such iframes (hidden, display:none) for hosts without this script.
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
  var MEASURE = '{"swaptally":"measure"}';

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
    holder.appendChild(frame);  // after the holder's text, which stays until the widget reports
    prepare(frame);
  }

  // What readers see while the iframe is not (yet) working: the blockquote before it, or the
  // content of the div it was built in.
  function fallback(frame) {
    var quote = frame.previousElementSibling;
    if (quote && quote.tagName === "BLOCKQUOTE" && quote.hasAttribute("data-swaptally")) return [quote];
    var holder = frame.parentNode;
    if (!holder || !holder.hasAttribute || !holder.hasAttribute("data-swaptally")) return [];
    return Array.prototype.filter.call(holder.childNodes, function (node) { return node !== frame; });
  }

  function prepare(frame) {
    if (frame.hasAttribute("data-swaptally-ready") || !isWidget(frame)) return;
    frame.setAttribute("data-swaptally-ready", "");
    var hidden = frame.hidden || frame.style.display === "none";
    if (hidden || fallback(frame).length) {
      // Unseen but laid out at its full width, so that it loads (lazily) and measures right.
      frame.hidden = false;
      frame.style.display = "block";
      frame.style.visibility = "hidden";
      frame.style.height = "0";
      frame.setAttribute("data-swaptally-pending", "");
    }
    // A widget that loaded before this script did has posted its height to no one: ask again.
    frame.addEventListener("load", function () { ask(frame); });
    ask(frame);
  }

  function ask(frame) {
    try { frame.contentWindow.postMessage(MEASURE, origin); } catch (error) { /* not loaded */ }
  }

  function scan() {
    var holders = document.querySelectorAll("div[data-swaptally]:not([data-swaptally-ready])");
    Array.prototype.forEach.call(holders, build);
    Array.prototype.forEach.call(document.querySelectorAll("iframe[data-swaptally-frame]"), prepare);
  }

  function resize(frame, message) {
    frame.style.height = Math.ceil(message.height) + "px";
    if (typeof message.title === "string" && message.title) frame.title = message.title;
    if (!frame.hasAttribute("data-swaptally-pending")) return;
    // It works: the text for readers without it gives way, and it takes the text's place.
    fallback(frame).forEach(function (node) {
      if (node.nodeType !== 1) node.parentNode.removeChild(node);
      else { node.hidden = true; node.style.display = "none"; }
    });
    frame.removeAttribute("data-swaptally-pending");
    frame.style.visibility = "";
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
