// Serves the webview bundles to real headless Chromium the way VS Code does: the product's HTML shell
// itself (src/view/webviewShell.ts, as src/vscode/webviewHtml.ts renders it: nonce CSP with
// default-src 'none', img/style/font from the "cspSource", the csp-nonce meta), the body markup the
// host renders (webview/*/markup.ts), and a preload script that stands in for VS Code's: theme
// variables on the body's vscode-* class, and an acquireVsCodeApi() that records what the view
// posts and keeps its state across reloads. Messages both ways go through JSON, as in VS Code.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { webviewShell } from '../../src/view/webviewShell';
import { COMPARE_MARKUP, COMPARE_SCRIPT, COMPARE_STYLE } from '../../webview/compare/markup';
import { DASHBOARD_MARKUP, DASHBOARD_SCRIPT, DASHBOARD_STYLE } from '../../webview/dashboard/markup';
import { LIVE_MARKUP, LIVE_SCRIPT, LIVE_STYLE } from '../../webview/live/markup';
import type { HostToWebview, WebviewToHost } from '../../webview/contract';

export const ROOT = path.resolve(__dirname, '../..');
export const RESULTS = path.join(ROOT, 'test-results', 'webview');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export type ViewName = 'live' | 'dashboard' | 'compare';
export type ThemeName = 'dark' | 'light' | 'high-contrast';

const VIEWS: Record<ViewName, { script: string; style: string; body: string }> = {
  live: { script: LIVE_SCRIPT, style: LIVE_STYLE, body: LIVE_MARKUP },
  dashboard: { script: DASHBOARD_SCRIPT, style: DASHBOARD_STYLE, body: DASHBOARD_MARKUP },
  compare: { script: COMPARE_SCRIPT, style: COMPARE_STYLE, body: COMPARE_MARKUP },
};

/** Theme variables as VS Code's Dark+, Light+ and Dark High Contrast themes define them. */
export const THEMES: Record<ThemeName, Record<string, string>> = {
  dark: {
    foreground: '#cccccc',
    descriptionForeground: '#ccccccb3',
    errorForeground: '#f48771',
    'editorWarning-foreground': '#cca700',
    'charts-blue': '#3794ff',
    'charts-orange': '#d18616',
    'charts-green': '#89d185',
    'charts-purple': '#b180d7',
    'charts-yellow': '#cca700',
    'charts-red': '#f14c4c',
    'charts-lines': '#cccccc80',
    'sideBar-background': '#252526',
    'editor-background': '#1e1e1e',
    'dropdown-background': '#3c3c3c',
    'dropdown-foreground': '#f0f0f0',
    'dropdown-border': '#3c3c3c',
    'button-background': '#0e639c',
    'button-foreground': '#ffffff',
    'button-secondaryBackground': '#3a3d41',
    'button-secondaryForeground': '#ffffff',
    'checkbox-background': '#3c3c3c',
    'checkbox-border': '#6b6b6b',
    'checkbox-foreground': '#f0f0f0',
    focusBorder: '#007fd4',
    'list-activeSelectionBackground': '#04395e',
  },
  light: {
    foreground: '#616161',
    descriptionForeground: '#717171',
    errorForeground: '#a1260d',
    'editorWarning-foreground': '#bf8803',
    'charts-blue': '#1a85ff',
    'charts-orange': '#d18616',
    'charts-green': '#388a34',
    'charts-purple': '#652d90',
    'charts-yellow': '#bf8803',
    'charts-red': '#e51400',
    'charts-lines': '#61616180',
    'sideBar-background': '#f3f3f3',
    'editor-background': '#ffffff',
    'dropdown-background': '#ffffff',
    'dropdown-foreground': '#616161',
    'dropdown-border': '#cecece',
    'button-background': '#007acc',
    'button-foreground': '#ffffff',
    'button-secondaryBackground': '#5f6a79',
    'button-secondaryForeground': '#ffffff',
    'checkbox-background': '#ffffff',
    'checkbox-border': '#919191',
    'checkbox-foreground': '#616161',
    focusBorder: '#0090f1',
    'list-activeSelectionBackground': '#0060c0',
  },
  'high-contrast': {
    foreground: '#ffffff',
    descriptionForeground: '#ffffffb3',
    errorForeground: '#f48771',
    'editorWarning-foreground': '#ffd370',
    'charts-blue': '#3794ff',
    'charts-orange': '#d18616',
    'charts-green': '#89d185',
    'charts-purple': '#b180d7',
    'charts-yellow': '#cca700',
    'charts-red': '#f14c4c',
    'charts-lines': '#ffffff80',
    contrastBorder: '#6fc3df',
    contrastActiveBorder: '#f38518',
    'sideBar-background': '#000000',
    'editor-background': '#000000',
    'dropdown-background': '#000000',
    'dropdown-foreground': '#ffffff',
    'dropdown-border': '#6fc3df',
    'button-background': '#000000',
    'button-foreground': '#ffffff',
    'button-border': '#6fc3df',
    'button-secondaryBackground': '#000000',
    'button-secondaryForeground': '#ffffff',
    'checkbox-background': '#000000',
    'checkbox-border': '#6fc3df',
    'checkbox-foreground': '#ffffff',
    focusBorder: '#f38518',
    'list-activeSelectionBackground': '#000000',
  },
};

const BODY_CLASS: Record<ThemeName, string> = { dark: 'vscode-dark', light: 'vscode-light', 'high-contrast': 'vscode-high-contrast' };

function themeCss(): string {
  const blocks = (Object.keys(THEMES) as ThemeName[]).map((name) => {
    const vars = Object.entries(THEMES[name])
      .map(([k, v]) => `  --vscode-${k}: ${v};`)
      .join('\n');
    return `body.${BODY_CLASS[name]} {\n${vars}\n}`;
  });
  // VS Code gives a sidebar view the side bar's background and an editor panel the editor's.
  return `body.view-live { background: var(--vscode-sideBar-background); }\nbody.view-dashboard { background: var(--vscode-editor-background); }\nbody {\n  --vscode-font-family: "DejaVu Sans", system-ui, sans-serif;\n  --vscode-font-size: 13px;\n  --vscode-font-weight: normal;\n}\n${blocks.join('\n')}\n`;
}

// Runs before the bundle (the shell's preload script), as VS Code's own preload does: the theme's
// class and data attributes on <body> (from the page's ?theme=), acquireVsCodeApi() (once per
// page), posted messages recorded through JSON, state kept in sessionStorage as JSON (it survives
// page.reload()), CSP violations and message receipt recorded for the tests.
const HARNESS_JS = `(() => {
  const BODY_CLASS = ${JSON.stringify(BODY_CLASS)};
  const theme = new URLSearchParams(location.search).get('theme') || 'dark';
  const view = location.pathname.split('/').pop();
  const themeClass = BODY_CLASS[theme] || BODY_CLASS.dark;
  document.body.classList.add(themeClass, 'view-' + view);
  document.body.dataset.vscodeThemeKind = themeClass;
  document.body.dataset.vscodeThemeId = 'harness-' + theme;
  const KEY = 'lossradar-harness-state';
  const h = { posted: [], violations: [], received: 0 };
  window.__harness = h;
  document.addEventListener('securitypolicyviolation', (e) => h.violations.push(e.violatedDirective + ' ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber + ':' + e.columnNumber));
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === '__harness_sync') h.received = e.data.n;
  });
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage: (message) => { h.posted.push(JSON.parse(JSON.stringify(message))); },
      getState: () => { const s = sessionStorage.getItem(KEY); return s === null ? undefined : JSON.parse(s); },
      setState: (state) => { sessionStorage.setItem(KEY, JSON.stringify(state)); return state; },
    });
  };
})();`;

export interface HarnessOptions {
  /** Bundle sources by view; default: dist/webview/*.js as `npm run build` left them. */
  bundles?: Partial<Record<ViewName, string>>;
}

export interface Harness {
  browser: Browser;
  baseUrl: string;
  open(view: ViewName, options?: { theme?: ThemeName; width?: number; height?: number }): Promise<Page>;
  close(): Promise<void>;
}

function bundleFor(view: ViewName, given: string | undefined): string {
  if (given !== undefined) return given;
  const file = path.join(ROOT, 'dist', 'webview', VIEWS[view].script);
  if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` before the browser tests`);
  return readFileSync(file, 'utf8');
}

/**
 * The Chromium the tests drive: Debian's /usr/bin/chromium, or $LOSSRADAR_CHROMIUM. Throws at once,
 * with the command that installs it, when it is missing (playwright would only fail at launch, and
 * a test in a hook would wait out its timeout).
 */
export function chromiumExecutable(): string {
  const given = process.env.LOSSRADAR_CHROMIUM;
  const file = given || '/usr/bin/chromium';
  if (!existsSync(file)) {
    throw new Error(
      given
        ? `LOSSRADAR_CHROMIUM=${given} does not exist: point it at a Chromium executable, or unset it and install Debian's: sudo apt-get install -y chromium`
        : `Chromium is not installed (${file} is missing): install it with \`sudo apt-get install -y chromium\` (or \`bash scripts/prereqs.sh\`), or set LOSSRADAR_CHROMIUM to a Chromium executable`,
    );
  }
  return file;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  // Before the server starts: a listening server would keep the test process alive after the throw.
  const executablePath = chromiumExecutable();
  const scripts: Record<ViewName, string> = {
    live: bundleFor('live', options.bundles?.live),
    dashboard: bundleFor('dashboard', options.bundles?.dashboard),
    compare: bundleFor('compare', options.bundles?.compare),
  };
  const styles: Record<string, string> = {};
  for (const file of readdirSync(path.join(ROOT, 'media'))) if (file.endsWith('.css')) styles[file] = readFileSync(path.join(ROOT, 'media', file), 'utf8');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (type: string, body: string, status = 200) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      res.end(body);
    };
    const view = /^\/view\/(live|dashboard|compare)$/.exec(url.pathname);
    if (view) {
      return send('text/html', page(baseUrl, view[1] as ViewName));
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    if (url.pathname === '/harness.js') return send('text/javascript', HARNESS_JS);
    if (url.pathname === '/theme.css') return send('text/css', themeCss());
    const media = /^\/media\/([a-z]+\.css)$/.exec(url.pathname);
    if (media && styles[media[1]] !== undefined) return send('text/css', styles[media[1]]);
    const dist = /^\/dist\/webview\/(live|dashboard|compare)\.js$/.exec(url.pathname);
    if (dist) return send('text/javascript', scripts[dist[1] as ViewName]);
    send('text/plain', 'not found', 404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  return {
    browser,
    baseUrl,
    async open(view, { theme = 'dark', width, height } = {}) {
      const size = view === 'live' ? { width: width ?? 360, height: height ?? 1000 } : { width: width ?? 1280, height: height ?? 1100 };
      const p = await browser.newPage({ viewport: size, deviceScaleFactor: 1 });
      errorsByPage.set(p, watchErrors(p));
      await p.goto(`${baseUrl}/view/${view}?theme=${theme}`);
      await p.waitForFunction(() => (window as unknown as HarnessWindow).__harness.posted.some((m) => m.type === 'ready'));
      return p;
    },
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The view's page: the product's shell, plus the harness's theme stylesheet and preload script. */
function page(cspSource: string, view: ViewName): string {
  const v = VIEWS[view];
  return webviewShell({
    cspSource,
    nonce: randomBytes(16).toString('base64'),
    scriptUri: `${cspSource}/dist/webview/${v.script}`,
    styleUri: `${cspSource}/media/${v.style}`,
    body: v.body,
    extraStyleUris: [`${cspSource}/theme.css`],
    preloadScriptUris: [`${cspSource}/harness.js`],
  });
}

interface HarnessWindow {
  __harness: { posted: WebviewToHost[]; violations: string[]; received: number };
}

let syncCounter = 0;

/**
 * Sends host messages as VS Code delivers them, through JSON (where NaN and ±Infinity become
 * null: the host must encode them, docs/protocol.md "Webviews"), and waits until the view handled
 * them and drew. page.evaluate alone would hand them over with NaN intact, and the tests would pass
 * where the product fails.
 */
export async function send(page: Page, ...messages: HostToWebview[]): Promise<void> {
  const n = ++syncCounter;
  await page.evaluate(
    ({ messages, n }) => {
      for (const m of messages) window.postMessage(JSON.parse(m), '*');
      window.postMessage({ type: '__harness_sync', n }, '*');
    },
    { messages: messages.map((m) => JSON.stringify(m)), n },
  );
  await page.waitForFunction((n) => (window as unknown as HarnessWindow).__harness.received >= n, n);
  await idle(page);
}

/** Waits until the view drew everything it had to (its root drops data-drawing), and a frame more. */
export async function idle(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-drawing]') === null);
  await frames(page, 1);
}

/** Scrolls an element into view and waits until the view drew what that showed. */
export async function reveal(page: Page, selector: string): Promise<void> {
  await page.locator(selector).scrollIntoViewIfNeeded();
  await frames(page, 2);
  await idle(page);
}

export async function frames(page: Page, count = 2): Promise<void> {
  await page.evaluate(async (count) => {
    for (let i = 0; i < count; i++) await new Promise((r) => requestAnimationFrame(r));
  }, count);
}

export async function posted(page: Page): Promise<WebviewToHost[]> {
  return page.evaluate(() => (window as unknown as HarnessWindow).__harness.posted);
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as HarnessWindow).__harness.violations);
}

/** CSP violations, page errors and console errors: under the product's CSP there should be none. */
export async function unexpectedProblems(page: Page): Promise<string[]> {
  return [...(await cspViolations(page)), ...pageErrors(page)];
}

export interface CanvasStats {
  width: number;
  height: number;
  /** Pixels not fully transparent. */
  painted: number;
  /** Distinct colours (quantised to 4 bits a channel) among the painted pixels. */
  colours: number;
  /** Painted pixels within `tolerance` of each probe colour. */
  near: number[];
  /** For each probe colour, the rows [top, bottom] (0 at the top) where it was found, or null. */
  rows: ([number, number] | null)[];
}

/** Reads a canvas's pixels in the page. Probe colours are #rrggbb. */
export async function canvasStats(page: Page, selector: string, probes: string[] = [], tolerance = 24): Promise<CanvasStats> {
  return page.evaluate(
    ({ selector, probes, tolerance }) => {
      const canvas = document.querySelector(selector) as HTMLCanvasElement | null;
      if (!canvas) throw new Error(`no canvas ${selector}`);
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('no 2d context');
      const { width, height } = canvas;
      const data = ctx.getImageData(0, 0, width, height).data;
      const rgb = probes.map((p) => [parseInt(p.slice(1, 3), 16), parseInt(p.slice(3, 5), 16), parseInt(p.slice(5, 7), 16)]);
      const near = rgb.map(() => 0);
      const rows: ([number, number] | null)[] = rgb.map(() => null);
      const colours = new Set<number>();
      let painted = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        painted++;
        colours.add(((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4));
        if (data[i + 3] < 200) continue;
        for (let k = 0; k < rgb.length; k++) {
          const [r, g, b] = rgb[k];
          if (Math.abs(data[i] - r) <= tolerance && Math.abs(data[i + 1] - g) <= tolerance && Math.abs(data[i + 2] - b) <= tolerance) {
            near[k]++;
            const y = Math.floor(i / 4 / width);
            const span = rows[k];
            rows[k] = span ? [Math.min(span[0], y), Math.max(span[1], y)] : [y, y];
          }
        }
      }
      return { width, height, painted, colours: colours.size, near, rows };
    },
    { selector, probes, tolerance },
  );
}

const errorsByPage = new WeakMap<Page, string[]>();

/** Uncaught errors and console errors of a page the harness opened (a live list). */
export function pageErrors(page: Page): string[] {
  return errorsByPage.get(page) ?? [];
}

/** Collects uncaught page errors and console errors. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** A test file's harness: one Chromium started before its tests and closed after them. */
export interface FileHarness {
  readonly baseUrl: string;
  open: Harness['open'];
  /** What the file's pages posted, gathered as `done` closes each one. */
  readonly allPosted: WebviewToHost[];
  /** Closes a page once it has shown no page error and no CSP violation, keeping what it posted. */
  done(page: Page): Promise<void>;
}

export function useHarness(options: HarnessOptions = {}): FileHarness {
  let harness: Harness | undefined;
  const started = (): Harness => {
    if (!harness) throw new Error('the harness starts in the before() hook: use it inside a test');
    return harness;
  };
  const allPosted: WebviewToHost[] = [];
  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    harness = await startHarness(options);
  });
  after(async () => {
    await harness?.close();
  });
  return {
    get baseUrl() {
      return started().baseUrl;
    },
    open: (view, openOptions) => started().open(view, openOptions),
    allPosted,
    async done(page) {
      allPosted.push(...(await posted(page)));
      assert.deepEqual(await unexpectedProblems(page), []);
      await page.close();
    },
  };
}
