// The status-bar item: the run the sidebar shows, its step and loss, in the warning colour while
// it has an open alert. Redrawn at most 4 times a second, and always after the last change.
import * as vscode from 'vscode';
import type { Hub } from '../hub/hub';
import type { AlertBook } from '../present/alertBook';
import { roleSeries, type RoleOverrides } from '../metrics/roles';
import { Coalescer } from '../present/coalescer';
import { statusLine } from '../present/statusLine';
import type { Run } from '../store/run';
import type { RunStore } from '../store/runStore';

export interface ShownRun {
  readonly activeRunId: string | null;
  readonly onDidChangeActiveRun: vscode.Event<string | null>;
}

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lossradar.status', vscode.StatusBarAlignment.Left, 50);
  private run: Run | undefined;
  private following: string | null = null;
  private readonly redraw = new Coalescer(() => this.draw(), 250);
  private readonly disposables: (() => void)[] = [];

  constructor(
    hub: Pick<Hub, 'on' | 'off'>,
    private readonly store: Pick<RunStore, 'get' | 'on' | 'off'>,
    private readonly book: Pick<AlertBook, 'openFor' | 'on' | 'off'>,
    shown: ShownRun,
    private readonly metrics: () => RoleOverrides = () => ({}),
  ) {
    this.item.name = 'Loss Radar';
    this.item.command = 'lossradar.openDashboard';
    const onRun = (run: Run) => run.id === this.following && this.redraw.request();
    const onAlerts = () => this.redraw.request();
    hub.on('rows', onRun);
    store.on('status', onRun);
    book.on('changed', onAlerts);
    const sub = shown.onDidChangeActiveRun((id) => void this.follow(id));
    this.disposables.push(
      () => hub.off('rows', onRun),
      () => store.off('status', onRun),
      () => book.off('changed', onAlerts),
      () => sub.dispose(),
    );
    void this.follow(shown.activeRunId);
  }

  private async follow(runId: string | null): Promise<void> {
    this.following = runId;
    const run = runId === null ? undefined : await this.store.get(runId).catch(() => undefined);
    if (this.following !== runId) return;
    this.run = run;
    this.draw();
  }

  private draw(): void {
    const run = this.run;
    if (!run || run.id !== this.following) return this.item.hide();
    const line = statusLine({
      name: run.meta.name,
      status: run.status,
      step: run.lastStep,
      loss: roleSeries(run.series, 'loss', this.metrics())?.last()?.value,
      alerts: this.book.openFor(run.id),
    });
    this.item.text = line.text;
    this.item.tooltip = line.tooltip;
    this.item.backgroundColor = line.tone === 'normal' ? undefined : new vscode.ThemeColor(line.tone === 'critical' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
    this.item.show();
  }

  dispose(): void {
    this.redraw.dispose();
    for (const off of this.disposables) off();
    this.item.dispose();
  }
}

