// The body the host renders for the sidebar "Live" view (the shell, src/view/webviewShell.ts, puts
// it between the stylesheet and the script). Plain strings, no vscode import: the host and the
// browser tests both import it. dist/webview/live.js fills these elements.
export const LIVE_SCRIPT = 'live.js';
export const LIVE_STYLE = 'live.css';

export const LIVE_MARKUP = `<div id="live" class="live">
<header class="toolbar">
<div id="run-picker-slot" class="picker-slot" hidden></div>
<div id="run-status" class="run-status" role="status" aria-live="polite"></div>
<div id="actions" class="actions"></div>
<div id="view-options-slot"></div>
</header>
<section id="alerts" class="alerts" aria-label="Open alerts" hidden></section>
<p id="empty" class="empty" hidden></p>
<main id="panels" class="panels" aria-label="Live charts"></main>
</div>`;
