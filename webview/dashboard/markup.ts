// The body the host renders for the run dashboard (a WebviewPanel; the shell, src/view/webviewShell.ts,
// puts it between the stylesheet and the script). Plain strings, no vscode import: the host and the
// browser tests both import it. dist/webview/dashboard.js fills these elements.
export const DASHBOARD_SCRIPT = 'dashboard.js';
export const DASHBOARD_STYLE = 'dashboard.css';

export const DASHBOARD_MARKUP = `<div id="dashboard" class="dashboard">
<header class="toolbar">
<div class="title"><h1 id="run-title">Loss Radar</h1><span id="run-status" class="run-status" role="status" aria-live="polite"></span></div>
<div id="actions" class="actions"></div>
</header>
<section id="banner" class="alerts banner" aria-label="Open alerts" hidden></section>
<section id="compare" class="compare" aria-label="Overlay the loss of other runs" hidden>
<span class="compare-label">Overlay the loss of</span>
<div id="overlay-runs" class="overlay-runs"></div>
</section>
<p class="hint">Wheel over a chart to zoom the steps, drag to select a range, double-click or “Reset Zoom” to see them all.</p>
<main id="charts" class="charts" aria-label="Run charts"></main>
<section class="wide" aria-labelledby="heatmap-title">
<h2 id="heatmap-title">SA sign diversity by layer</h2>
<div id="heatmap-readout" class="readout" aria-live="polite"></div>
<div class="heatmap-box"><canvas id="heatmap" role="img" aria-label="SA sign diversity, layers by steps"></canvas></div>
</section>
<section class="wide reliability" aria-labelledby="reliability-title">
<h2 id="reliability-title">Reliability</h2>
<div id="reliability-caption" class="readout"></div>
<div class="reliability-box"><canvas id="reliability" role="img" aria-label="Reliability diagram: accuracy per confidence bin against the diagonal"></canvas></div>
</section>
</div>`;
