// The workspace's view preferences (smoothing, x axis, outliers, log scales, hidden metrics:
// webview/contract.ts ViewPrefs), one owner for every view of the window. A webview's own state is
// per view instance (the sidebar and each dashboard have their own), so what a user sets in one
// view is kept here, in the workspace's state, and told to every view (docs/charts.md). Plain
// TypeScript: src/extension.ts hands it VS Code's workspaceState.
import { EventEmitter } from 'node:events';
import { isViewPrefs, type ViewPrefs } from '../../webview/contract';

/** The part of vscode.Memento used here. */
export interface PrefsMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void> | Promise<void>;
}

const KEY = 'lossradar.viewPrefs';

export class ViewPrefsStore extends EventEmitter<{ changed: [prefs: ViewPrefs] }> {
  private prefs: ViewPrefs;

  constructor(private readonly memento: PrefsMemento) {
    super();
    const saved = memento.get<unknown>(KEY);
    // What an older or damaged state holds is dropped, not trusted.
    this.prefs = isViewPrefs(saved) ? saved : {};
  }

  get current(): ViewPrefs {
    return this.prefs;
  }

  /** Merges a view's change (the per-chart and per-metric choices merge too) and tells every view. */
  async merge(change: ViewPrefs): Promise<void> {
    const next: ViewPrefs = { ...this.prefs, ...change };
    if (change.logScale) next.logScale = { ...this.prefs.logScale, ...change.logScale };
    if (change.metricCharts) next.metricCharts = { ...this.prefs.metricCharts, ...change.metricCharts };
    if (!isViewPrefs(next)) throw new Error('view preferences out of bounds');
    this.prefs = next;
    this.emit('changed', next);
    await this.memento.update(KEY, next);
  }
}
