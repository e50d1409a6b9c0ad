/* The page's state in its URL (dashboard/components/page_shell.py, url_sync). A page writes its model (and, with a
 * text box, its text; Compare also its second model) into the URL on every change. A page without a text box keeps
 * the text the URL brought along, so the navbar links (which copy the URL's model and text to the next page) carry
 * the user's text across Geometry, Words, Fixed points or Decomposition to the next page that shows it. */
(function () {
  "use strict";
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    attractorscope_url: {
      syncUrl: function (model, text, modelB) {
        var current = new URLSearchParams(window.location.search), params = new URLSearchParams();
        if (model) { params.set("model", model); }
        if (typeof text === "string") {
          if (text) { params.set("text", text.slice(0, 2000)); }
        } else if (current.get("text")) {
          params.set("text", current.get("text"));  // no text box here: keep the text for the next page
        }
        if (modelB) { params.set("model_b", modelB); }
        try { window.history.replaceState(null, "", window.location.pathname + "?" + params.toString()); } catch (e) { /* sandboxed */ }
        return "";
      },
      syncStudy: function (study) {  /* the Studies page: ?study=NAME */
        try {
          if (study) { window.history.replaceState(null, "", window.location.pathname + "?study=" + encodeURIComponent(study)); }
        } catch (e) { /* sandboxed */ }
        return "";
      }
    }
  });
})();
