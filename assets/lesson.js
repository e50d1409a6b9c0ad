/* Lesson mode (dashboard/pages/lesson.py): keyboard control, playback, slow 3D rotation. Everything runs in the
 * browser: the text is fixed, its trajectory came with the page, and each step patches the overlay graph through
 * Explore's own pathPatch (assets/explore.js). */
(function () {
  "use strict";
  var SPEEDS = [["0.5×", 1400], ["1×", 700], ["2×", 350], ["4×", 175], ["8×", 90]];  // label, ms per word
  var ROTATE_DEG_PER_S = 6;
  var EV_FULL_COLOUR = 2.0;  // as Explore's token strip: a log-odds change of 2 is full colour
  var lesson = { step: 0, n: 0, speed: 1, timer: null, rotating: false, spin: null };
  var nu = function () { return window.dash_clientside.no_update; };

  var SMALL_SCREEN_PX = 700, PHONE_FONT = 12;  // style.css: the phone rules for lesson mode (max-width: 700px)
  function root() { return document.querySelector(".lesson"); }
  function gd(id) { return document.querySelector("#" + id + " .js-plotly-plot"); }
  function setStep(k) {
    k = Math.max(0, Math.min(lesson.n, k));
    if (k !== lesson.step) { window.dash_clientside.set_props("lesson-step", { data: k }); }
  }

  function hexToRgba(hex, alpha) {
    var r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
    return "rgba(" + r + "," + g + "," + b + "," + alpha.toFixed(3) + ")";
  }

  function renderStrip(data, k, info) {
    var strip = document.getElementById("lesson-strip");
    if (!strip) { return; }
    if (strip.__data !== data) {
      var frag = document.createDocumentFragment(), colors = (info && info.colors) || [];
      (data.tokens || []).forEach(function (tok, i) {
        var span = document.createElement("span"), ev = data.ev[i], towards = ev >= 0 ? data.predicted : data.toward[i];
        span.className = "tok";
        span.textContent = tok;
        span.setAttribute("data-i", i);
        span.setAttribute("role", "listitem");
        span.style.backgroundColor = hexToRgba(colors[towards] || "#888888", Math.min(1, Math.abs(ev) / EV_FULL_COLOUR) * 0.6);
        frag.appendChild(span);
      });
      strip.replaceChildren(frag);
      strip.__data = data;
    }
    for (var i = 0; i < strip.children.length; i++) {
      strip.children[i].classList.toggle("future", i >= k);
      strip.children[i].classList.toggle("current", i === k - 1);
    }
    var current = strip.children[k - 1];
    if (current && current.scrollIntoView) { current.scrollIntoView({ block: "nearest" }); }
  }

  function prediction(data, k, info) {
    if (!data || !data.n) { return (data && data.notice) || ""; }
    if (k === 0) { return "Press space to read the first word."; }
    var K = data.k, best = 0, names = (info && info.class_names) || [];
    for (var c = 1; c < K; c++) { if (data.probs[(k - 1) * K + c] > data.probs[(k - 1) * K + best]) { best = c; } }
    return "“" + data.tokens[k - 1] + "” → " + (names[best] || "class " + best) + " " +
           Math.round(100 * data.probs[(k - 1) * K + best]) + "%";
  }

  // The cloud graph lies under the overlay, which alone receives the mouse: mirror its camera and zoom.
  function link(tries) {
    var over = gd("lesson-graph"), cloud = gd("lesson-cloud");
    if (!over || !cloud || !over.on || !window.Plotly) {
      if (tries < 100) { setTimeout(function () { link(tries + 1); }, 100); }
      return;
    }
    if (over.__lessonLinked === over._ev) { return; }
    over.__lessonLinked = over._ev;
    var mirror = function (ev) {
      var update = {};
      Object.keys(ev || {}).forEach(function (key) { if (/^(xaxis|yaxis|scene)/.test(key)) { update[key] = ev[key]; } });
      if (Object.keys(update).length) { window.Plotly.relayout(gd("lesson-cloud"), update); }
    };
    over.on("plotly_relayouting", mirror);
    over.on("plotly_relayout", mirror);
  }

  function stopPlay() {
    if (lesson.timer) { clearInterval(lesson.timer); lesson.timer = null; }
    var button = document.getElementById("lesson-play");
    if (button) { button.textContent = "▶ Play"; }
  }

  function startPlay() {
    stopPlay();
    if (lesson.step >= lesson.n) { window.dash_clientside.set_props("lesson-step", { data: 0 }); lesson.step = 0; }
    lesson.timer = setInterval(function () {
      if (lesson.step >= lesson.n) { stopPlay(); return; }
      setStep(lesson.step + 1);
    }, SPEEDS[lesson.speed][1]);
    var button = document.getElementById("lesson-play");
    if (button) { button.textContent = "❚❚ Pause"; }
  }

  function changeSpeed(delta) {
    lesson.speed = Math.max(0, Math.min(SPEEDS.length - 1, lesson.speed + delta));
    var label = document.getElementById("lesson-speed");
    if (label) { label.textContent = SPEEDS[lesson.speed][0]; }
    if (lesson.timer) { startPlayFrom(lesson.step); }
  }

  function startPlayFrom(k) { lesson.step = k; startPlay(); }

  function rotate(on) {
    lesson.rotating = on;
    var button = document.getElementById("lesson-rotate");
    if (button) { button.classList.toggle("on", on); }
    if (lesson.spin) { clearInterval(lesson.spin); lesson.spin = null; }
    if (!on) { return; }
    var last = Date.now();
    lesson.spin = setInterval(function () {
      var over = gd("lesson-graph"), scene = over && over._fullLayout && over._fullLayout.scene;
      if (!scene || !scene.camera || !window.Plotly) { return; }
      var now = Date.now(), angle = ROTATE_DEG_PER_S * (now - last) / 1000 * Math.PI / 180;
      last = now;
      var eye = scene.camera.eye, cos = Math.cos(angle), sin = Math.sin(angle);
      var camera = JSON.parse(JSON.stringify(scene.camera));
      camera.eye = { x: eye.x * cos - eye.y * sin, y: eye.x * sin + eye.y * cos, z: eye.z };
      window.Plotly.relayout(over, { "scene.camera": camera });
    }, 150);
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    attractorscope_lesson: {
      draw: function (step, all, info, fig) {
        var runId = info && info.run_id, data = (all && runId && all[runId]) || { n: 0 };
        lesson.n = data.n || 0;
        lesson.step = Math.max(0, Math.min(lesson.n, typeof step === "number" ? step : lesson.n));
        renderStrip(data, lesson.step, info);
        link(0);
        var explore = window.dash_clientside.attractorscope;
        var patch = explore && fig ? explore.pathPatch(all, lesson.step, null, fig) : nu();
        return [patch, prediction(data, lesson.step, info), lesson.step + " / " + lesson.n + " words"];
      },
      togglePlay: function () {
        if (document.activeElement && document.activeElement.blur) { document.activeElement.blur(); }  // space = next word
        if (lesson.timer) { stopPlay(); } else { startPlay(); }
        return nu();
      },
      // On a phone the projector-sized type would leave the plot a sliver: smaller type and margins on both
      // layers (the same margins, so the cloud stays under the overlay), as patches, so later steps keep them.
      // It runs after each drawn step (the step label is draw's last output), so it patches the figure draw left;
      // once a figure is small it is left alone.
      fitSmallScreen: function (_label, over, cloud) {
        if (window.innerWidth > SMALL_SCREEN_PX) { return [nu(), nu()]; }
        var shrink = function (fig) {
          if (!fig || !fig.layout || (fig.layout.font || {}).size === PHONE_FONT) { return nu(); }
          var patch = new window.dash_clientside.Patch();
          patch.assign(["layout", "font", "size"], PHONE_FONT);
          if (fig.layout.legend) { patch.assign(["layout", "legend", "font", "size"], 11); }
          if (!fig.layout.scene) { patch.assign(["layout", "margin"], { l: 48, r: 12, t: 48, b: 44 }); }
          (fig.data || []).forEach(function (trace, i) {
            if (String(trace.mode || "").indexOf("text") >= 0) { patch.assign(["data", i, "textfont", "size"], 13); }
          });
          return patch.build();
        };
        return [shrink(over), shrink(cloud)];
      },
      toggleRotate: function () {
        if (document.activeElement && document.activeElement.blur) { document.activeElement.blur(); }
        rotate(!lesson.rotating);
        return nu();
      }
    }
  });

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) { stopPlay(); rotate(false); link.click(); }
  }

  document.addEventListener("keydown", function (event) {
    if (!root() || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var tag = (event.target && event.target.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag)) { return; }
    var key = event.key, handled = true;
    if (key === " " || key === "ArrowRight") { stopPlay(); setStep(lesson.step + 1); }
    else if (key === "ArrowLeft") { stopPlay(); setStep(lesson.step - 1); }
    else if (key === "Home") { stopPlay(); setStep(0); }
    else if (key === "End") { stopPlay(); setStep(lesson.n); }
    else if (key === "p" || key === "P") { if (lesson.timer) { stopPlay(); } else { startPlay(); } }
    else if (key === "+" || key === "=") { changeSpeed(1); }
    else if (key === "-" || key === "_") { changeSpeed(-1); }
    else if (key === "r" || key === "R") { if (root().getAttribute("data-view") === "3d") { rotate(!lesson.rotating); } }
    else if (key === "n" || key === "N" || key === "PageDown") { follow(".lesson-next"); }
    else if (key === "b" || key === "B" || key === "PageUp") { follow(".lesson-prev"); }
    else { handled = false; }
    if (handled) { event.preventDefault(); }
  });

  // A click on a word shows the text up to it.
  document.addEventListener("click", function (event) {
    var el = event.target && event.target.closest && event.target.closest("#lesson-strip .tok");
    if (el) { stopPlay(); setStep(Number(el.getAttribute("data-i")) + 1); }
  });

  // Leaving the page (a tour link, Exit) stops the timers.
  window.addEventListener("_dashprivate_pushstate", function () { stopPlay(); rotate(false); });
})();
