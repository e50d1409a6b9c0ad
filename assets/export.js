/* Explore's export buttons (dashboard/components/export_buttons.py). PNG and SVG are drawn here from the two
 * stacked graphs as the user sees them (camera, zoom, hidden legend entries and all), in one figure; HTML, CSV and
 * GIF are made by the server, which gets the current camera (3D) or axis ranges (2D) with the request. */
(function () {
  "use strict";
  var nu = function () { return window.dash_clientside.no_update; };

  function graphDiv(id) { return document.querySelector("#" + id + " .js-plotly-plot"); }

  // The camera (3D) or the axis ranges (2D) of the overlay, which alone receives the mouse.
  function viewState(gd) {
    var full = gd && gd._fullLayout;
    if (!full) { return null; }
    if (full.scene && full.scene.camera) { return { camera: JSON.parse(JSON.stringify(full.scene.camera)) }; }
    if (full.xaxis && full.yaxis) { return { xaxis: full.xaxis.range.slice(), yaxis: full.yaxis.range.slice() }; }
    return null;
  }

  function clone(obj) { return JSON.parse(JSON.stringify(obj)); }

  // One figure: the cloud graph's traces (with the visibility the legend gave them) under the overlay's,
  // on the cloud's axes, with the overlay's legend and the current camera or ranges.
  function mergedFigure(cloud, over, vector) {
    var k = ((over.layout && over.layout.meta) || {}).cloud_proxies || 0;
    var data = cloud.data.slice(0, k).map(function (t, i) {
      var copy = Object.assign({}, t, { showlegend: true, legendgroup: undefined });
      var proxy = over._fullData[i];
      if (proxy) { copy.visible = proxy.visible; }
      return copy;
    }).concat(over.data.slice(k));
    if (vector) {  // SVG: every trace as vector shapes, not a WebGL picture inside the SVG
      data = data.map(function (t) { return t.type === "scattergl" ? Object.assign({}, t, { type: "scatter" }) : t; });
    }
    var layout = clone(cloud.layout);
    layout.showlegend = true;
    layout.legend = clone(over.layout.legend || {});
    layout.legend.bgcolor = "rgba(255,255,255,0.8)";
    layout.paper_bgcolor = "white";
    layout.meta = undefined;
    var view = viewState(over);
    if (view && view.camera) { layout.scene = Object.assign(layout.scene || {}, { camera: view.camera }); }
    if (view && view.xaxis) {
      layout.xaxis = Object.assign(layout.xaxis || {}, { range: view.xaxis, autorange: false });
      layout.yaxis = Object.assign(layout.yaxis || {}, { range: view.yaxis, autorange: false });
    }
    return { data: data, layout: layout };
  }

  function fileStem() {
    var params = new URLSearchParams(window.location.search);
    var words = (params.get("text") || "text").toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40)
      .replace(/^-+|-+$/g, "") || "text";
    return (params.get("model") || "attractor") + "_" + words;
  }

  function toDownload(url, format) {
    var comma = url.indexOf(","), head = url.slice(0, comma), body = url.slice(comma + 1);
    var name = fileStem() + "." + format;
    if (head.indexOf(";base64") >= 0) {
      return { content: body, filename: name, base64: true, type: "image/" + format };
    }
    return { content: decodeURIComponent(body), filename: name, base64: false, type: "image/svg+xml" };
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    attractorscope_export: {
      requestExport: function () {
        var trig = (window.dash_clientside.callback_context.triggered || [])[0];
        var kind = trig && trig.prop_id ? trig.prop_id.split(".")[0].replace("export-", "") : null;
        if (!kind || !trig.value) { return [nu(), nu()]; }
        var label = kind === "gif" ? "Drawing the animation…" : "Preparing the " + kind.toUpperCase() + " file…";
        return [{ kind: kind, view: viewState(graphDiv("trajectory-graph")), at: Date.now() }, label];
      },

      saveImage: function () {
        var trig = (window.dash_clientside.callback_context.triggered || [])[0];
        var format = trig && trig.prop_id && trig.prop_id.indexOf("export-svg") === 0 ? "svg" : "png";
        var cloud = graphDiv("cloud-graph"), over = graphDiv("trajectory-graph");
        if (!trig || !trig.value) { return nu(); }
        if (!cloud || !over || !window.Plotly) { return "The graph is not drawn yet: wait a moment and try again."; }
        var box = over.getBoundingClientRect();
        var opts = { format: format, width: Math.max(400, Math.round(box.width)),
                     height: Math.max(300, Math.round(box.height)), scale: format === "png" ? 2 : 1 };
        window.Plotly.toImage(mergedFigure(cloud, over, format === "svg"), opts).then(function (url) {
          window.dash_clientside.set_props("export-image-download", { data: toDownload(url, format) });
          window.dash_clientside.set_props("export-status", { children: "Saved " + fileStem() + "." + format + "." });
        }).catch(function () {
          window.dash_clientside.set_props("export-status", { children: "The picture could not be made in this browser; try the HTML export." });
        });
        return "Drawing the " + format.toUpperCase() + "…";
      }
    }
  });
})();
