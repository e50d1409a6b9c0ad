/* dcc.Graph loads plotly.js from window._dashPlotlyJSURL when window.Plotly is not defined yet, and dash-renderer
 * sets that to the full plotly.min.js (4.8 MB) when it starts. Pages that open without a graph in view (Models,
 * Train) are served without plotly.js (app.py, eager_plotly): point the loader at the same partial bundle the
 * other pages load, named by the app in a meta tag, so a graph shown later loads 2.1 MB and draws the same. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="attractorscope-plotly"]');
  if (!meta) { return; }
  var url = meta.getAttribute("content");
  try {
    Object.defineProperty(window, "_dashPlotlyJSURL", {
      configurable: true,
      get: function () { return url; },
      set: function () { /* the renderer's default (the full bundle) is ignored */ }
    });
  } catch (e) { /* a browser that refuses: dcc.Graph falls back to the full plotly.min.js */ }
})();
