(function () {
  "use strict";
  // Sizes the iframe in every dialect hosts understand (again whenever the host page asks,
  // as /embed.js does when it loads after the widget), and keeps the figures live while the
  // page is visible. Query: childId (pym.js), poll (seconds, at least 5, 60 by default). A
  // widget that cannot be shown (no #st-body) only sizes itself.
  var query = new URLSearchParams(location.search);
  var childId = query.get("childId");
  var secret = (/[#&?]secret=([A-Za-z0-9]+)/.exec(location.hash) || [])[1];
  var poll = parseInt(query.get("poll"), 10);
  poll = Math.max(isNaN(poll) ? 60 : poll, 5) * 1000;
  var widget = document.getElementById("st-widget");
  var slug = widget.getAttribute("data-slug");
  var framed = window.parent !== window;
  var live = !!document.getElementById("st-body");
  var MEASURE = '{"swaptally":"measure"}';
  var sent = 0;
  var timer = null;

  function post(message) {
    window.parent.postMessage(message, "*");
  }

  function sendHeight(force) {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (!framed || (height === sent && !force)) return;
    sent = height;
    if (childId) post("pymxPYMx" + childId + "xPYMxheightxPYMx" + height);
    post({ sentinel: "amp", type: "embed-size", height: height });
    if (secret) post({ message: "height", value: height, secret: secret });
    post(JSON.stringify({ swaptally: "height", slug: slug, height: height, title: document.title }));
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var body = fresh.getElementById("st-body");
    var summary = fresh.getElementById("st-summary");
    var old = document.getElementById("st-body");
    if (!body || !summary || body.outerHTML === old.outerHTML) return;
    var changed = body.getAttribute("data-figures") !== old.getAttribute("data-figures");
    old.parentNode.replaceChild(document.importNode(body, true), old);
    document.getElementById("st-summary").textContent = summary.textContent;
    document.title = fresh.title;
    if (changed) document.getElementById("st-live").textContent = summary.textContent;
    sendHeight();
  }

  function schedule() {
    clearTimeout(timer);
    timer = live && document.visibilityState === "visible" ? setTimeout(check, poll) : null;
  }

  function check() {
    // A conditional request: the browser sends the ETag it holds and gets 304 when unchanged.
    fetch(location.pathname + location.search, { cache: "no-cache", credentials: "omit" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) swap(html); })
      .catch(function () {})
      .then(schedule);
  }

  window.addEventListener("message", function (event) {
    var pym = "pymxPYMx" + childId + "xPYMxwidth";
    if (event.source !== window.parent || typeof event.data !== "string") return;
    if ((childId && event.data.indexOf(pym) === 0) || event.data === MEASURE) sendHeight(true);
  });
  document.addEventListener("visibilitychange", function () {
    if (live && document.visibilityState === "visible") check();
    else clearTimeout(timer);
  });
  if (window.ResizeObserver) new ResizeObserver(function () { sendHeight(); }).observe(document.body);
  window.addEventListener("load", function () { sendHeight(true); });
  sendHeight(true);
  schedule();
})();
