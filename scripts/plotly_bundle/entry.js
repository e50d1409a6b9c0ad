// The trace types the dashboard draws (tests/dashboard/test_plotly_bundle.py checks this list against
// dashboard/), on plotly.js's core (which always holds scatter). Built by build.js into
// assets/plotly-custom.min.js; see README.md in this folder.
'use strict';
var Plotly = require('plotly.js/lib/core');
Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/histogram'),
    require('plotly.js/lib/scattergl'),
    require('plotly.js/lib/scatter3d'),
]);
module.exports = Plotly;
