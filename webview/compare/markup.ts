// The body the host renders for the comparison table (a WebviewPanel; the shell, src/view/webviewShell.ts,
// puts it between the stylesheet and the script). Plain strings, no vscode import: the host and the
// browser tests both import it. dist/webview/compare.js fills these elements.
export const COMPARE_SCRIPT = 'compare.js';
export const COMPARE_STYLE = 'compare.css';

export const COMPARE_MARKUP = `<div id="compare" class="compare-view">
<header class="toolbar">
<div class="title"><h1>Compare Runs</h1><span id="count" class="run-status" role="status" aria-live="polite"></span></div>
<div id="actions" class="actions"></div>
</header>
<div class="filter-row"><div id="filter-box" class="filter-box"></div><span id="filter-error" class="filter-error" role="alert"></span></div>
<p id="selection" class="hint">Check runs, then “Open on Dashboard”: the first one checked opens, the others are overlaid on its charts.</p>
<div class="table-box"><table id="runs-table" class="runs-table" aria-label="Runs"><thead><tr id="table-head"></tr></thead><tbody id="table-body"></tbody></table></div>
<p id="empty" class="empty" hidden></p>
<p id="note" class="hint" hidden></p>
</div>`;
