// The "Runs" tree: every run in the store, with its status as an icon and its tags, narrowed by the
// filter of "Filter Runs…" (the comparison table's filter, src/view/runQuery.ts: a tree view has no
// text box, so the filter is asked in an input box and shown as the view's message; the context key
// lossradar.runsFiltered puts "Clear Runs Filter" on the title bar, docs/compare.md).
import * as vscode from 'vscode';
import type { RoleOverrides } from '../metrics/roles';
import type { RunStatus } from '../store/meta';
import type { RunStore, RunSummary } from '../store/runStore';
import { buildCompareTable } from '../view/compareRows';
import { filterRows, type RunFilter } from '../view/runQuery';

const ICONS: Record<RunStatus, [string, string | undefined]> = {
  running: ['sync~spin', 'charts.blue'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', undefined],
  interrupted: ['debug-disconnect', 'list.warningForeground'],
};

export const FILTERED_CONTEXT = 'lossradar.runsFiltered';

export class RunsTreeProvider implements vscode.TreeDataProvider<RunSummary>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly onStoreChanged = () => this.changed.fire();
  private filter: RunFilter | null = null;
  private view: vscode.TreeView<RunSummary> | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly metrics: () => RoleOverrides = () => ({}),
  ) {
    store.on('changed', this.onStoreChanged);
  }

  /** The tree view this provider fills: the filter is said in its message. */
  attach(view: vscode.TreeView<RunSummary>): void {
    this.view = view;
  }

  get filterText(): string {
    return this.filter?.source ?? '';
  }

  /** A filter already read by parseFilter; null or an empty one shows every run. */
  setFilter(filter: RunFilter | null): void {
    this.filter = filter && filter.terms.length > 0 ? filter : null;
    void vscode.commands.executeCommand('setContext', FILTERED_CONTEXT, this.filter !== null);
    this.changed.fire();
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(run: RunSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.None);
    const [icon, color] = ICONS[run.status];
    const tags = run.meta.tags ?? [];
    item.id = run.id;
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    // Tags before the date: a narrow side bar cuts the end of the line.
    item.description = [run.status, ...(tags.length > 0 ? [tags.map((t) => `#${t}`).join(' ')] : []), new Date(run.createdAt * 1000).toLocaleString()].join(' · ');
    item.tooltip = `${run.id}\n${run.dir}${tags.length > 0 ? `\ntags: ${tags.join(', ')}` : ''}`;
    item.contextValue = `run.${run.status}`;
    item.accessibilityInformation = { label: `${run.name}, ${run.status}${tags.length > 0 ? `, tags ${tags.join(', ')}` : ''}` };
    item.command = { command: 'lossradar.openDashboard', title: 'Open Run Dashboard', arguments: [run] };
    return item;
  }

  async getChildren(element?: RunSummary): Promise<RunSummary[]> {
    if (element) return [];
    const runs = await this.store.list();
    const filter = this.filter;
    if (!filter) {
      if (this.view) this.view.message = undefined;
      return runs;
    }
    // The rows of the comparison table, from meta.json alone: a loss or step term reads the stored summary.
    const rows = buildCompareTable(runs.map((r) => ({ meta: r.meta, stats: r.meta.stats ?? null })), { overrides: this.metrics() }).rows;
    const keep = new Set(filterRows(rows, filter).map((r) => r.id));
    const shown = runs.filter((r) => keep.has(r.id));
    if (this.view) this.view.message = `Filter: ${filter.source} (${shown.length} of ${runs.length} runs)`;
    return shown;
  }

  dispose(): void {
    this.store.off('changed', this.onStoreChanged);
    this.changed.dispose();
  }
}
