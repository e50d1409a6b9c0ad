/* Client-side renderers for the Explore page. The server sends one compact trajectory payload per
 * (coalesced) edit; these functions turn it into Patches of the prebuilt figures and the token strip,
 * so the 20k-point attractor is sent once per model and never re-sent while the user types. Each
 * keystroke's path is drawn first by the preview (below), straight from /api/trajectory. */
(function () {
  "use strict";
  // Send an edit at once when no trajectory request is in flight; while one is, keep only the newest
  // text and send it when the answer arrives. A fast typist never queues stale work, and a single
  // edit is not delayed by a timer.
  var STUCK_MS = 3000;
  // A token that moves the predicted class's log-odds by this much (odds x 7.4) gets the full colour;
  // one fixed scale for every text and model, so colours compare across texts.
  var EV_FULL_COLOUR = 2.0;
  var inFlightSince = 0;
  var pendingText = null;
  var hoverPinned = false;
  var nu = function () { return window.dash_clientside.no_update; };

  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function hexToRgba(hex, alpha) {
    var r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
    return "rgba(" + r + "," + g + "," + b + "," + alpha.toFixed(3) + ")";
  }

  function visibleCount(data, step) {
    if (step === null || step === undefined) { return data.n; }
    return Math.max(0, Math.min(step, data.n));
  }

  function hoverText(data, names, i) {
    var k = data.k, lines = ["#" + (i + 1) + " <b>" + escapeHtml(data.tokens[i]) + "</b>"];
    for (var c = 0; c < k; c++) {
      lines.push(escapeHtml(names[c] || ("class " + c)) + ": " + (100 * data.probs[i * k + c]).toFixed(1) + "%");
    }
    return lines.join("<br>");
  }

  function points(data, idx, threeD) {
    var out = { x: [], y: [], z: [] };
    idx.forEach(function (i) {
      out.x.push(data.xyz[3 * i]); out.y.push(data.xyz[3 * i + 1]); out.z.push(data.xyz[3 * i + 2]);
    });
    if (!threeD) { delete out.z; }
    return out;
  }

  function assignPoints(patch, trace, pts, text) {
    Object.keys(pts).forEach(function (axis) { patch.assign(["data", trace, axis], pts[axis]); });
    patch.assign(["data", trace, "hovertext"], text);
  }

  // The strip is drawn straight into the DOM: thousands of Dash components would take seconds to
  // mount, plain spans take milliseconds. Dash never sets this div's children, so React leaves them.
  var stripData = null;
  function renderStrip(strip, data, k, info) {
    if (!strip) { return; }
    if (!data) { strip.replaceChildren(); stripData = null; return; }
    if (stripData !== data) {
      var unk = {}; (data.unk || []).forEach(function (i) { unk[i] = true; });
      var colors = info.colors || [], frag = document.createDocumentFragment();
      data.tokens.forEach(function (tok, i) {
        var ev = data.ev[i], towards = ev >= 0 ? data.predicted : data.toward[i];
        var span = document.createElement("span");
        span.className = "tok" + (unk[i] ? " unk" : "");
        span.textContent = tok;
        span.setAttribute("data-i", i);
        span.setAttribute("role", "listitem");
        span.title = (unk[i] ? "unknown word (<unk>) · " : "") + "log-odds of " + (info.class_names[data.predicted] || "") +
                     " " + (ev >= 0 ? "+" : "") + ev.toFixed(2);
        span.style.backgroundColor = hexToRgba(colors[towards] || "#888888",
                                               Math.min(1, Math.abs(ev) / EV_FULL_COLOUR) * 0.75);
        frag.appendChild(span);
      });
      strip.replaceChildren(frag);
      stripData = data;
    }
    var spans = strip.children;
    for (var i = 0; i < spans.length; i++) {
      spans[i].classList.toggle("future", i >= k);
      spans[i].classList.toggle("current", i === k - 1);
    }
  }

  // The cloud graph lies under the overlay (the trajectory graph), which alone receives the mouse: its
  // zoom, pan and camera are mirrored onto the cloud, and legend clicks on its cloud entries (legend-only
  // proxies, layout.meta.cloud_proxies of them, in the cloud's trace order) toggle the cloud's traces.
  function cloudDiv() { return document.querySelector("#cloud-graph .js-plotly-plot"); }
  function linkLayers(gd) {
    if (!gd || !gd.on || !gd._ev || gd._ev.__cloudLinked || !window.Plotly) { return; }
    gd._ev.__cloudLinked = true;
    var mirror = function (ev) {
      var cloud = cloudDiv(), update = {};
      if (!cloud || !ev) { return; }
      Object.keys(ev).forEach(function (key) { if (/^(xaxis|yaxis|scene)/.test(key)) { update[key] = ev[key]; } });
      if (Object.keys(update).length) { window.Plotly.relayout(cloud, update); }
    };
    gd.on("plotly_relayouting", mirror);
    gd.on("plotly_relayout", mirror);
    // after plotly has applied a legend click to the proxies (not on the click itself: a double click
    // fires two clicks and changes nothing), each cloud trace takes its proxy's visibility
    gd.on("plotly_restyle", function () { syncCloudVisibility(gd); });
    gd.on("plotly_legenddoubleclick", function () { return false; });
  }

  function syncCloudVisibility(gd) {
    var n = (gd.layout.meta || {}).cloud_proxies || 0, cloud = cloudDiv(), want = [], idx = [];
    if (!n || !cloud || !cloud._fullData || !gd._fullData) { return; }
    for (var i = 0; i < n && i < gd._fullData.length && i < cloud._fullData.length; i++) {
      var v = gd._fullData[i].visible === true ? true : "legendonly";
      if (cloud._fullData[i].visible !== v) { want.push(v); idx.push(i); }
    }
    if (idx.length) { window.Plotly.restyle(cloud, { visible: want }, idx); }
  }

  // Link once the overlay is plotted (it may not be yet when its figure is patched), and again after a
  // new plot (a 2D/3D switch replaces the graph's event emitter).
  function linkSoon(tries) {
    var gd = document.querySelector("#trajectory-graph .js-plotly-plot");
    if (gd && gd.on && gd._ev && window.Plotly && cloudDiv()) { linkLayers(gd); return; }
    if (tries < 100) { setTimeout(function () { linkSoon(tries + 1); }, 100); }
  }

  // The trajectory store maps run id -> payload, so an answer for a previous model is ignored.
  function payloadFor(all, runId) { return all && runId ? all[runId] || null : null; }

  // An edit for Dash's round trip: sent now (returned, for the debounced-text store) unless one is in flight;
  // then kept, the newest only, until the answer arrives.
  function toDash(value) {
    var now = Date.now();
    if (inFlightSince && now - inFlightSince < STUCK_MS) {
      pendingText = value;
      return nu();
    }
    inFlightSince = now;
    pendingText = null;
    lastSent = value;
    return value;
  }

  // An edit's answer arrived: the next edit may be sent; one typed meanwhile is sent now.
  function editAnswered() {
    inFlightSince = 0;
    if (pendingText !== null) {
      var next = pendingText;
      pendingText = null;
      inFlightSince = Date.now();
      lastSent = next;
      setTimeout(function () { window.dash_clientside.set_props("debounced-text", { data: next }); }, 0);
    }
  }

  function range(n) { var a = []; for (var i = 0; i < n; i++) { a.push(i); } return a; }

  // The first k points of a payload's path as the overlay's path, start and end traces: each part's trace
  // index (layout.meta), its points and their hover texts. Dash's redraws patch them, the preview restyles them.
  function pathParts(data, k, meta) {
    var names = meta.class_names || [], shown = range(k), first = k > 0 ? [0] : [], last = k > 0 ? [k - 1] : [];
    var hover = function (i) { return hoverText(data, names, i); };
    return [{ trace: meta.trajectory, pts: points(data, shown, meta.three_d), text: shown.map(hover) },
            { trace: meta.start, pts: points(data, first, meta.three_d), text: first.map(function () { return "start"; }) },
            { trace: meta.end, pts: points(data, last, meta.three_d), text: last.map(hover) }];
  }

  // The preview: every keystroke also fetches its payload straight from /api/trajectory (dashboard/api.py)
  // and draws the path with Plotly.restyle as soon as it arrives, without waiting for Dash's own round trip
  // (a store update, the callback request, its answer, the clientside redraw), which follows and brings the
  // token strip, panel and player in line; its redraw of the same path changes nothing on screen. Requests
  // are coalesced as Dash's are: one in flight, the newest text waiting.
  // Dash's round trip for a previewed text starts once the preview is drawn, so the two requests never
  // compete for the server and the main thread, and Dash's answer comes from the server's recent payloads.
  var preview = {
    busy: null, pending: null, shown: null,  // busy: the text whose request is in flight
    claims: function (text) { return text === this.busy || text === this.pending; },
  };
  var lastSent = null;  // the text of the edit Dash was last asked to answer
  function overlayDiv() { return document.querySelector("#trajectory-graph .js-plotly-plot"); }
  function apiUrl() {
    var prefix = "/";
    try { prefix = JSON.parse(document.getElementById("_dash-config").textContent).requests_pathname_prefix || "/"; }
    catch (e) { prefix = "/"; }
    return prefix.replace(/\/$/, "") + "/api/trajectory";
  }
  function requestPreview(text) {
    if (preview.busy !== null) { preview.pending = text; return; }
    var gd = overlayDiv(), meta = gd && gd.layout && gd.layout.meta;
    if (!meta || meta.trajectory === undefined || !meta.run_id || !window.fetch) { return; }
    preview.busy = text;
    window.fetch(apiUrl(), { method: "POST", headers: { "Content-Type": "application/json" },
                             body: JSON.stringify({ model: meta.run_id, text: text }) })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { drawPreview(text, data); }, function () { return null; })  // Dash's answer still comes
      .then(function () {
        preview.busy = null;
        var box = document.getElementById("sentence-input");
        if (box && box.value === text && text !== preview.pending) { handToDash(text); }
        if (preview.pending !== null) { var next = preview.pending; preview.pending = null; requestPreview(next); }
      });
  }
  function handToDash(text) {
    if (toDash(text) === text && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("debounced-text", { data: text });
    }
  }
  function drawPreview(text, data) {
    var box = document.getElementById("sentence-input"), gd = overlayDiv();
    var meta = gd && gd.layout && gd.layout.meta;
    if (!data || !box || box.value !== text || !meta || data.run_id !== meta.run_id || !window.Plotly) { return; }
    var parts = pathParts(data, data.n || 0, meta);
    var update = { hovertext: parts.map(function (part) { return part.text; }) };
    Object.keys(parts[0].pts).forEach(function (axis) { update[axis] = parts.map(function (part) { return part.pts[axis]; }); });
    preview.shown = text;
    window.Plotly.restyle(gd, update, parts.map(function (part) { return part.trace; }));
  }
  // capture: before React's handler, so the preview has claimed the text when coalesceEdits sees it
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "sentence-input") { requestPreview(event.target.value); }
  }, true);

  // An answer Dash computed for an older edit, while the preview already shows the current text: drawing it
  // would move the path back for a moment.
  function olderThanPreview(answered) {
    var box = document.getElementById("sentence-input");
    return !!box && preview.shown === box.value && answered !== null && answered !== box.value;
  }

  // The training-time panel below the working view follows the typed text only while it is on screen: a
  // text typed while it is scrolled away waits (the newest one) and is passed on when the panel comes into view.
  var trainingShown = false, trainingPending = null, trainingWatched = null;
  function watchTrainingPanel() {
    var panel = document.getElementById("training-panel");
    if (!panel || panel === trainingWatched || !window.IntersectionObserver) { return !!panel; }
    trainingWatched = panel;
    new window.IntersectionObserver(function (entries) {
      if (panel !== trainingWatched) { return; }
      trainingShown = entries[entries.length - 1].isIntersecting;
      if (trainingShown && trainingPending !== null && window.dash_clientside.set_props) {
        var text = trainingPending;
        trainingPending = null;
        window.dash_clientside.set_props("training-text", { data: text });
      }
    }).observe(panel);
    trainingShown = false;  // until the observer's first report (it reports at once)
    return true;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    attractorscope: {
      trainingText: function (text) {
        if (!watchTrainingPanel() || !window.IntersectionObserver || trainingShown) {
          trainingPending = null;
          return text;
        }
        trainingPending = text;
        return nu();
      },

      coalesceEdits: function (value) {
        return preview.claims(value) ? nu() : toDash(value);  // a previewed text goes to Dash once drawn
      },

      // The path up to `step` tokens (all of it for step null), as a Patch of the overlay figure; no_update if the
      // figure has no path traces. Lesson mode (assets/lesson.js) draws its steps with it too.
      pathPatch: function (all, step, hover, fig) {
        var meta = fig && fig.layout && fig.layout.meta;
        if (!meta || meta.trajectory === undefined) { return nu(); }
        var data = payloadFor(all, meta.run_id) || { n: 0 };
        var patch = new window.dash_clientside.Patch();
        var ok = data.n > 0;
        var k = ok ? visibleCount(data, step) : 0;
        var names = (fig.layout.meta.class_names) || [];
        pathParts(data, k, meta).forEach(function (part) { assignPoints(patch, part.trace, part.pts, part.text); });
        linkSoon(0);
        var h = ok && hover && hover.i !== undefined && hover.i < data.n ? [hover.i] : [];
        assignPoints(patch, meta.highlight, points(data, h, meta.three_d),
                     h.map(function (i) { return hoverText(data, names, i); }));
        patch.assign(["data", meta.highlight, "visible"], h.length > 0);  // hidden traces cost Plotly nothing
        return patch.build();
      },

      // A new payload (an edit's answer, a new model, the first draw) shows the whole path and sets the player
      // to its end in the same step, so the graph is drawn without waiting for a separate slider update; the
      // player moving (slider, play, hover) redraws the path up to its position.
      drawTrajectory: function (all, step, hover, fig) {
        var triggered = (window.dash_clientside.callback_context || {}).triggered || [];
        var fresh = !triggered.length || triggered.some(function (t) {
          return t.prop_id === "trajectory-data.data" || t.prop_id === ".";
        });
        var ns = window.dash_clientside.attractorscope;
        if (!fresh) { return [ns.pathPatch(all, step, hover, fig), nu(), nu()]; }
        var answered = lastSent;  // Dash has one edit in flight at a time: this answer is for it
        editAnswered();
        if (olderThanPreview(answered)) { return [nu(), nu(), nu()]; }
        var meta = fig && fig.layout && fig.layout.meta;
        var n = ((meta && payloadFor(all, meta.run_id)) || { n: 0 }).n || 0;
        return [ns.pathPatch(all, null, hover, fig), Math.max(n, 1), n];
      },

      drawPanel: function (all, step, info) {
        var strip = document.getElementById("token-strip");
        var data = payloadFor(all, info && info.run_id);
        if (!data || !data.n) {
          renderStrip(strip, null, 0, info);
          return [nu(), "", (data && data.notice) || "", ""];
        }
        var k = visibleCount(data, step), K = data.k;
        renderStrip(strip, data, k, info);
        var patch = new window.dash_clientside.Patch();
        var xs = range(k).map(function (i) { return i + 1; });
        for (var c = 0; c < K; c++) {
          patch.assign(["data", c, "x"], xs);
          patch.assign(["data", c, "y"], xs.map(function (t) { return data.probs[(t - 1) * K + c]; }));
        }
        patch.assign(["layout", "xaxis", "range"], [0.5, Math.max(data.n, 2) + 0.5]);
        return [patch.build(), data.prediction, data.notice || "", k + " / " + data.n + " tokens"];
      },

      togglePlay: function (clicks, disabled, value, max) {
        if (disabled) {  // start playing; from the beginning if we are at the end
          return [false, "❚❚ Pause", value >= max ? 1 : value];
        }
        return [true, "▶ Play", nu()];
      },

      playTick: function (n, value, max) {
        if (value >= max) { return [nu(), true, "▶ Play"]; }
        return [value + 1, nu(), nu()];
      },

      syncUrl: function (model, text, modelB) {
        var params = new URLSearchParams();
        if (model) { params.set("model", model); }
        if (typeof text === "string" && text) { params.set("text", text.slice(0, 2000)); }
        if (modelB) { params.set("model_b", modelB); }
        try { window.history.replaceState(null, "", window.location.pathname + "?" + params.toString()); } catch (e) { /* sandboxed */ }
        return "";
      },

      shareUrl: function (text, model, view, overlays) {
        var params = new URLSearchParams();
        if (model) { params.set("model", model); }
        if (text) { params.set("text", text.slice(0, 2000)); }
        if (view === "3d") { params.set("view", "3d"); }
        (Array.isArray(overlays) ? overlays : []).forEach(function (t) {  // one overlay= per overlaid text
          if (typeof t === "string" && t) { params.append("overlay", t.slice(0, 300)); }
        });
        var url = window.location.pathname + "?" + params.toString();
        try { window.history.replaceState(null, "", url); } catch (e) { /* file:// or sandboxed */ }
        return window.location.origin + url;
      }
    }
  });

  // Navbar links carry the current model and text to the next page (dcc.Link would drop them).
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest && event.target.closest("a.nav-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    var current = new URLSearchParams(window.location.search), next = new URLSearchParams();
    ["model", "text"].forEach(function (key) { if (current.get(key)) { next.set(key, current.get(key)); } });
    var query = next.toString();
    if (!query) { return; }
    event.preventDefault();
    event.stopPropagation();
    window.history.pushState({}, "", link.getAttribute("href").split("?")[0] + "?" + query);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  }, true);

  // Hovering a token highlights its point; clicking pins it and moves the player to it; leaving the strip
  // clears it unless pinned.
  document.addEventListener("click", function (event) {
    var el = event.target && event.target.closest && event.target.closest(".token-strip .tok");
    if (!el || !window.dash_clientside.set_props) { return; }
    hoverPinned = true;
    var i = Number(el.getAttribute("data-i"));
    window.dash_clientside.set_props("hover-token", { data: { i: i, pinned: true } });
    window.dash_clientside.set_props("token-slider", { value: i + 1 });  // jump there: play on from this word
    window.dash_clientside.set_props("edit-target", { data: i });  // and offer to edit it (explore_edits.py)
  });
  document.addEventListener("mouseover", function (event) {
    var el = event.target && event.target.closest && event.target.closest(".token-strip .tok");
    if (!el || !window.dash_clientside.set_props) { return; }
    hoverPinned = false;
    window.dash_clientside.set_props("hover-token", { data: { i: Number(el.getAttribute("data-i")) } });
  });
  document.addEventListener("mouseout", function (event) {
    var strip = event.target && event.target.closest && event.target.closest(".token-strip");
    if (!strip || strip.contains(event.relatedTarget) || hoverPinned || !window.dash_clientside.set_props) { return; }
    window.dash_clientside.set_props("hover-token", { data: null });
  });
})();
