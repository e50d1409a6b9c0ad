// Builds ../../assets/plotly-custom.min.js from entry.js with plotly.js's own esbuild settings
// (node_modules/plotly.js/esbuild-config.js), minified. Run: npm ci && node build.js
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');

const version = require('plotly.js/package.json').version;
const traces = fs.readFileSync(path.join(__dirname, 'entry.js'), 'utf8')
    .match(/lib\/(\w+)'\)/g).map((m) => m.slice(4, -2)).filter((t) => t !== 'core');
const banner = `/* plotly.js v${version} (npm package plotly.js, MIT license, Copyright 2012-2026 Plotly, Inc.),
 * a partial bundle for attractorscope: traces ${['scatter'].concat(traces).join(', ')}.
 * Built by scripts/plotly_bundle/build.js; dcc.Graph uses window.Plotly instead of loading plotly.min.js. */`;
esbuild.build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: path.join(__dirname, '..', '..', 'assets', 'plotly-custom.min.js'),
    format: 'iife', globalName: 'Plotly', bundle: true, minify: true, sourcemap: false, legalComments: 'none',
    banner: { js: banner },
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'info',
}).catch(() => process.exit(1));
