// sluice console: small hand-written script, no library. It fills in what the server renders
// as placeholders (online freshness from /readyz), highlights lineage edges, and runs the
// look-up form against this console's POST /v1/features. Every value goes into the page as
// text (textContent), never as HTML.
"use strict";

(function () {
  window.addEventListener("error", function (e) {
    document.body.setAttribute("data-js-error", String(e.message || e));
  });

  function el(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }

  function age(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return "";
    var s = Math.round((Date.now() - t) / 1000);
    if (s < 120) return s + "s ago";
    if (s < 7200) return Math.round(s / 60) + "m ago";
    if (s < 172800) return Math.round(s / 3600) + "h ago";
    return Math.round(s / 86400) + "d ago";
  }

  function describe(v) {
    if (!v) return "not served";
    if (!v.ready) return "not ready: " + (v.problem || "unknown");
    return v.entities + " entities, newest event " + v.newest_event + " (" + age(v.newest_event) +
      "), materialized " + age(v.materialized_at);
  }

  function fillFreshness(ready) {
    var byView = {};
    (ready.views || []).forEach(function (v) { if (!byView[v.view]) byView[v.view] = v; });
    document.querySelectorAll("[data-fresh-view]").forEach(function (cell) {
      var v = byView[cell.getAttribute("data-fresh-view")];
      cell.textContent = describe(v);
      cell.className = v && v.ready ? "fresh ok" : "fresh empty";
    });
    document.querySelectorAll("[data-store-status]").forEach(function (cell) {
      var name = cell.getAttribute("data-store-status");
      var views = (ready.views || []).filter(function (v) { return v.store === name; });
      var ok = views.filter(function (v) { return v.ready; }).length;
      cell.textContent = views.length ? ok + " of " + views.length + " views ready" :
        "no view materialized";
    });
    document.querySelectorAll("div.freshness[data-view]").forEach(function (box) {
      var name = box.getAttribute("data-view");
      var views = (ready.views || []).filter(function (v) { return v.view === name; });
      box.textContent = "";
      if (!views.length) { box.appendChild(el("p", "Nothing recorded yet: not materialized.", "empty")); return; }
      var table = el("table");
      var head = el("tr");
      ["store", "ready", "entities", "newest event", "materialized at", "source version"].forEach(
        function (h) { head.appendChild(el("th", h)); });
      table.appendChild(head);
      views.forEach(function (v) {
        var tr = el("tr");
        [v.store, v.ready ? "yes" : "no: " + (v.problem || ""), v.entities, v.newest_event,
          v.materialized_at, (v.source_version || "").slice(0, 12)].forEach(function (c) {
          tr.appendChild(el("td", c === undefined ? "" : c));
        });
        table.appendChild(tr);
      });
      box.appendChild(table);
    });
  }

  function loadFreshness() {
    if (!document.querySelector("[data-fresh-view], [data-store-status], div.freshness")) {
      return Promise.resolve();
    }
    return fetch("/readyz").then(function (r) { return r.json(); }).then(fillFreshness)
      .catch(function (err) {
        document.querySelectorAll("[data-fresh-view], [data-store-status]").forEach(function (c) {
          c.textContent = "unknown (" + err + ")";
        });
      });
  }

  function lineageHover() {
    document.querySelectorAll("svg.lineage .node").forEach(function (node) {
      var id = node.getAttribute("data-node");
      function set(on) {
        node.classList.toggle("hl", on);
        document.querySelectorAll("svg.lineage .edge").forEach(function (e) {
          if (e.getAttribute("data-from") === id || e.getAttribute("data-to") === id) {
            e.classList.toggle("hl", on);
          }
        });
      }
      node.addEventListener("mouseenter", function () { set(true); });
      node.addEventListener("mouseleave", function () { set(false); });
    });
  }

  function typed(input) {
    var v = input.value.trim();
    switch (input.getAttribute("data-type")) {
      case "int64": if (!/^-?\d+$/.test(v)) throw new Error(input.name + ": expected an integer"); return Number(v);
      case "double": if (isNaN(Number(v))) throw new Error(input.name + ": expected a number"); return Number(v);
      case "bool": return v === "true";
      case "auto": return /^-?\d+$/.test(v) ? Number(v) : v;
      default: return v;
    }
  }

  function renderLookup(out, answer) {
    out.textContent = "";
    if (answer.error) { out.appendChild(el("p", answer.error.message, "error")); return; }
    (answer.results || []).forEach(function (r) {
      out.appendChild(el("p", "as of " + answer.at + " for " + JSON.stringify(r.entity)));
      var table = el("table");
      var head = el("tr");
      ["feature", "value", "status", "version"].forEach(function (h) { head.appendChild(el("th", h)); });
      table.appendChild(head);
      Object.keys(r.features).forEach(function (k) {
        var f = r.features[k];
        var tr = el("tr");
        tr.appendChild(el("td", k));
        tr.appendChild(el("td", f.value === null ? "null" : f.value, "num"));
        tr.appendChild(el("td", f.status));
        tr.appendChild(el("td", f.version, "mono"));
        table.appendChild(tr);
      });
      out.appendChild(table);
    });
  }

  function lookupForm() {
    var form = document.getElementById("lookup");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var out = document.getElementById("lookup-result");
      var entity = {};
      try {
        form.querySelectorAll("input[data-key]").forEach(function (i) {
          entity[i.getAttribute("data-key")] = typed(i);
        });
      } catch (err) {
        out.textContent = "";
        out.appendChild(el("p", err.message, "error"));
        return;
      }
      var body = { view: form.getAttribute("data-view"), entities: [entity] };
      var at = form.querySelector("input[name=at]").value.trim();
      if (at) body.at = at;
      fetch("/v1/features", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body) })
        .then(function (r) { return r.json(); })
        .then(function (a) { renderLookup(out, a); })
        .catch(function (err) { out.textContent = ""; out.appendChild(el("p", String(err), "error")); });
    });
  }

  function loginForm() {
    var form = document.getElementById("login");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var token = form.querySelector("input[name=token]").value;
      document.cookie = "sluice_token=" + encodeURIComponent(token) + "; path=/; SameSite=Strict";
      window.location.href = "/";
    });
  }

  lineageHover();
  lookupForm();
  loginForm();
  loadFreshness().then(function () { document.body.setAttribute("data-ready", "1"); });
})();
