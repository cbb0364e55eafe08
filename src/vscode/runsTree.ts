// The "Runs" tree: every run in the store, with its status as an icon.
import * as vscode from 'vscode';
import type { RunStatus } from '../store/meta';
import type { RunStore, RunSummary } from '../store/runStore';

const ICONS: Record<RunStatus, [string, string | undefined]> = {
  running: ['sync~spin', 'charts.blue'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', undefined],
  interrupted: ['debug-disconnect', 'list.warningForeground'],
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunSummary>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly onStoreChanged = () => this.changed.fire();

  constructor(private readonly store: RunStore) {
    store.on('changed', this.onStoreChanged);
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(run: RunSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.None);
    const [icon, color] = ICONS[run.status];
    item.id = run.id;
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.description = `${run.status} · ${new Date(run.createdAt * 1000).toLocaleString()}`;
    item.tooltip = `${run.id}\n${run.dir}`;
    item.contextValue = `run.${run.status}`;
    item.accessibilityInformation = { label: `${run.name}, ${run.status}` };
    item.command = { command: 'lossradar.openDashboard', title: 'Open Run Dashboard', arguments: [run] };
    return item;
  }

  async getChildren(element?: RunSummary): Promise<RunSummary[]> {
    return element ? [] : this.store.list();
  }

  dispose(): void {
    this.store.off('changed', this.onStoreChanged);
    this.changed.dispose();
  }
}
