// VS Code theme colours for the charts, read from the CSS variables VS Code puts on the webview
// (--vscode-*), with fallbacks per theme kind, and re-read whenever the theme changes: VS Code
// switches the body class (vscode-light / vscode-dark / vscode-high-contrast[-light]) and rewrites
// the variables on <html>, so both are watched.

import { parseColor } from './color';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  error: string;
  warning: string;
  /** Line colours in order: blue, orange, green, purple, yellow, red. */
  series: string[];
  fontFamily: string;
  fontSize: number;
}

type Fallbacks = Omit<Theme, 'kind' | 'fontFamily' | 'fontSize'>;

const FALLBACKS: Record<ThemeKind, Fallbacks> = {
  dark: {
    foreground: '#cccccc',
    muted: '#ccccccb3',
    grid: '#cccccc33',
    background: '#1e1e1e',
    error: '#f48771',
    warning: '#cca700',
    series: ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'],
  },
  light: {
    foreground: '#616161',
    muted: '#717171',
    grid: '#61616133',
    background: '#ffffff',
    error: '#a1260d',
    warning: '#bf8803',
    series: ['#1a85ff', '#d18616', '#388a34', '#652d90', '#bf8803', '#e51400'],
  },
  'high-contrast': {
    foreground: '#ffffff',
    muted: '#ffffff',
    grid: '#6fc3df',
    background: '#000000',
    error: '#f48771',
    warning: '#ffd370',
    series: ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'],
  },
  'high-contrast-light': {
    foreground: '#292929',
    muted: '#292929',
    grid: '#0f4a85',
    background: '#ffffff',
    error: '#b5200d',
    warning: '#895503',
    series: ['#1a85ff', '#d18616', '#388a34', '#652d90', '#bf8803', '#e51400'],
  },
};

export function themeKind(body: HTMLElement = document.body): ThemeKind {
  const cls = body.classList;
  if (cls.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (cls.contains('vscode-high-contrast')) return 'high-contrast';
  if (cls.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.body);
  const v = (name: string) => style.getPropertyValue(`--vscode-${name}`).trim();
  const first = (...names: string[]) => names.map(v).find((x) => x !== '') ?? '';
  const kind = themeKind();
  const fb = FALLBACKS[kind];
  const highContrast = kind === 'high-contrast' || kind === 'high-contrast-light';
  const series = ['blue', 'orange', 'green', 'purple', 'yellow', 'red'].map((c, i) => v(`charts-${c}`) || fb.series[i]);
  const fontSize = parseFloat(v('font-size')) || 13;
  return {
    kind,
    foreground: first('foreground', 'editor-foreground') || fb.foreground,
    muted: first('descriptionForeground') || fb.muted,
    grid: (highContrast ? first('contrastBorder', 'charts-lines') : first('charts-lines', 'widget-border')) || fb.grid,
    background: opaque(style.backgroundColor) ?? (first('sideBar-background', 'editor-background', 'panel-background') || fb.background),
    error: first('errorForeground', 'charts-red') || fb.error,
    warning: first('editorWarning-foreground', 'charts-yellow') || fb.warning,
    series,
    fontFamily: v('font-family') || style.fontFamily || 'sans-serif',
    fontSize,
  };
}

/** The colour if it is not fully transparent (the page's background when VS Code gave it one). */
function opaque(color: string): string | undefined {
  const c = parseColor(color);
  return c && c.a > 0 ? color : undefined;
}

/** Calls `onChange` with the new theme after VS Code switched it; returns the disconnect. */
export function watchTheme(onChange: (theme: Theme) => void): () => void {
  let scheduled = false;
  const fire = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      onChange(readTheme());
    });
  };
  const observer = new MutationObserver(fire);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return () => observer.disconnect();
}
