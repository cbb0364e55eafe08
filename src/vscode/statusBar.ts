// The status-bar item: the active run's step and loss, in the warning colour while it has an open alert.
import * as vscode from 'vscode';
import { fmt } from '../detect/detector';
import type { Hub } from '../hub/hub';
import type { AlertBook } from '../present/alertBook';
import type { MetricRow, Run } from '../store/run';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lossradar.status', vscode.StatusBarAlignment.Left, 50);
  private runId: string | null = null;
  private runName = '';
  private step: number | null = null;
  private loss: number | undefined;
  private lastDraw = 0;
  private readonly disposables: (() => void)[] = [];

  constructor(hub: Hub, private readonly book: AlertBook) {
    this.item.name = 'Loss Radar';
    this.item.command = 'lossradar.openDashboard';
    const onStarted = (run: Run) => {
      this.runId = run.id;
      this.runName = run.meta.name;
      this.step = run.lastStep;
      this.draw();
    };
    const onRows = (run: Run, rows: MetricRow[]) => {
      if (run.id !== this.runId) return;
      const last = rows[rows.length - 1];
      this.step = last.step;
      for (let i = rows.length - 1; i >= 0; i--) {
        if (rows[i].values.loss !== undefined) {
          this.loss = rows[i].values.loss;
          break;
        }
      }
      if (Date.now() - this.lastDraw > 250) this.draw();
    };
    const onAlerts = () => this.draw();
    hub.on('runStarted', onStarted);
    hub.on('rows', onRows);
    book.on('changed', onAlerts);
    this.disposables.push(() => hub.off('runStarted', onStarted), () => hub.off('rows', onRows), () => book.off('changed', onAlerts));
  }

  private draw(): void {
    this.lastDraw = Date.now();
    if (this.runId === null) return this.item.hide();
    const alerts = this.book.openFor(this.runId);
    const critical = alerts.some((a) => a.severity === 'critical');
    this.item.text = `$(${alerts.length ? 'warning' : 'pulse'}) ${this.runName} · step ${this.step ?? '–'} · loss ${this.loss === undefined ? '–' : fmt(this.loss)}`;
    this.item.tooltip = alerts.length ? alerts.map((a) => `${a.severity}: ${a.message}`).join('\n') : 'Loss Radar: no open alert. Click for the dashboard.';
    this.item.backgroundColor = alerts.length ? new vscode.ThemeColor(critical ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    for (const off of this.disposables) off();
    this.item.dispose();
  }
}
