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
<section id="compare" class="compare" aria-label="Overlay other runs" hidden>
<span class="compare-label">Overlay</span>
<div id="overlay-runs" class="overlay-runs"></div>
</section>
<div id="view-options-slot" class="options-row"></div>
<p class="hint">Wheel over a chart to zoom the steps, drag to select a range, double-click or “Reset Zoom” to see them all.</p>
<main id="charts" class="charts" aria-label="Run charts"></main>
<section id="metrics-section" class="wide" aria-labelledby="metrics-title" hidden>
<h2 id="metrics-title">Metrics</h2>
<div id="metric-picker" class="metric-picker"></div>
</section>
<section class="wide" aria-labelledby="heatmap-title">
<h2 id="heatmap-title">SA sign diversity by layer</h2>
<div id="heatmap-readout" class="readout" aria-live="polite"></div>
<div class="heatmap-box"><canvas id="heatmap" role="img" aria-label="SA sign diversity, layers by steps"></canvas></div>
</section>
<section class="wide distributions" aria-labelledby="distributions-title">
<h2 id="distributions-title">Reliability and SA histograms</h2>
<div id="step-picker" class="step-picker"></div>
<div id="distributions-note" class="readout note" role="status"></div>
<div class="reliability">
<div id="reliability-caption" class="readout"></div>
<div class="reliability-box"><canvas id="reliability" role="img" aria-label="Reliability diagram: accuracy per confidence bin against the diagonal"></canvas></div>
</div>
<div class="histograms-box"><canvas id="histograms" role="img" aria-label="SA histograms by layer"></canvas></div>
</section>
<section id="events-section" class="wide" aria-labelledby="events-title" hidden>
<h2 id="events-title">Events</h2>
<table class="events"><tbody id="events"></tbody></table>
</section>
<section id="config-section" class="wide" aria-labelledby="config-title" hidden>
<h2 id="config-title">Config</h2>
<table class="config"><tbody id="config"></tbody></table>
</section>
</div>`;
