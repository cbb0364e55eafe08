// The HTML shell of both webviews, and of the page the browser tests drive (test/browser/harness.ts):
// one function, so the page under test cannot drift from the product's. Plain strings, no `vscode`
// import; src/vscode/webviewHtml.ts does the URI work and picks the nonce.
//
// The CSP runs only scripts that carry the nonce. Styles come from the webview's resource origin,
// or with the nonce: @vscode/webview-ui-toolkit (FAST) probes `:focus-visible` support by inserting
// a <style>, reading the nonce from the csp-nonce meta. Inline style attributes stay refused; the
// views set sizes through the CSSOM, which the CSP allows.

export interface WebviewShellOptions {
  /** The webview's resource origin (`webview.cspSource`). */
  cspSource: string;
  /** Fresh for every render (base64). */
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** The view's markup (webview/<view>/markup.ts): trusted, inserted as it is. */
  body: string;
  /** Stylesheets before the view's own. */
  extraStyleUris?: readonly string[];
  /**
   * Scripts run before the view's bundle, with the nonce. Only the browser tests use it: they stand
   * in for what VS Code's own preload gives a webview (acquireVsCodeApi, the theme on <body>).
   */
  preloadScriptUris?: readonly string[];
}

/** The Content-Security-Policy of a webview rendered with `nonce`. */
export function webviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function webviewShell(o: WebviewShellOptions): string {
  const nonce = attr(o.nonce);
  const styles = [...(o.extraStyleUris ?? []), o.styleUri].map((uri) => `<link rel="stylesheet" href="${attr(uri)}">`);
  const scripts = [...(o.preloadScriptUris ?? []), o.scriptUri].map((uri) => `<script nonce="${nonce}" src="${attr(uri)}"></script>`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(webviewCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${nonce}">
${styles.join('\n')}
</head><body>${o.body}
${scripts.join('\n')}
</body></html>`;
}

/** Text for a double-quoted attribute. */
function attr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
