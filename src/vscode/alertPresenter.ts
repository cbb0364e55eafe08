// Alerts where people look: the Problems panel and a squiggle on the line that logged the metric,
// an end-of-line note there, a hover with the values around the alert step, and a notification
// with actions for critical alerts and a run's first warning (src/present/notifyPolicy.ts).
import * as vscode from 'vscode';
import { fmt } from '../detect/detector';
import { AlertBook, inlineText, valuesAround, type LocatedAlert } from '../present/alertBook';
import { NotifyPolicy, notificationActions } from '../present/notifyPolicy';
import { actionByLabel, answeredStep, type ActionInfo } from '../rescue/actions';
import type { RunStore } from '../store/runStore';

export class AlertPresenter implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('lossradar');
  private readonly warningDecoration = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorWarning.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
    isWholeLine: true,
    overviewRulerColor: new vscode.ThemeColor('editorWarning.foreground'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
  private readonly criticalDecoration = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorError.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
    isWholeLine: true,
    overviewRulerColor: new vscode.ThemeColor('editorError.foreground'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly policy = new NotifyPolicy(() => vscode.workspace.getConfiguration('lossradar').get<boolean>('notify.firstWarning', true));

  constructor(
    private readonly book: AlertBook,
    private readonly store: RunStore,
    /** What the run's SDK can do when asked (docs/rescue.md): offered with its alerts. */
    private readonly actionsFor: (runId: string) => ActionInfo[] = () => [],
  ) {
    const refresh = () => this.refresh();
    const notify = (entry: LocatedAlert) => void this.notify(entry).catch(() => undefined);
    book.on('changed', refresh);
    book.on('opened', notify);
    this.disposables.push(
      { dispose: () => book.off('changed', refresh) },
      { dispose: () => book.off('opened', notify) },
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
      vscode.languages.registerHoverProvider({ scheme: 'file' }, { provideHover: (doc, pos) => this.hover(doc, pos) }),
    );
  }

  private refresh(): void {
    this.diagnostics.clear();
    for (const [file, entries] of this.book.byFile()) {
      this.diagnostics.set(
        vscode.Uri.file(file),
        entries.map((entry) => {
          const line = Math.max(0, entry.alert.source!.line - 1);
          const d = new vscode.Diagnostic(
            new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER),
            `${entry.runName} · step ${entry.alert.step}: ${entry.alert.message}`,
            entry.alert.severity === 'critical' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
          );
          d.source = 'Loss Radar';
          d.code = entry.alert.kind;
          return d;
        }),
      );
    }
    this.decorate();
  }

  private decorate(): void {
    const byFile = this.book.byFile();
    for (const editor of vscode.window.visibleTextEditors) {
      const entries = byFile.get(editor.document.uri.fsPath) ?? [];
      const warnings: vscode.DecorationOptions[] = [];
      const criticals: vscode.DecorationOptions[] = [];
      const seenLines = new Set<number>();
      for (const entry of entries) {
        const line = Math.max(0, entry.alert.source!.line - 1);
        if (seenLines.has(line) || line >= editor.document.lineCount) continue; // the most severe per line
        seenLines.add(line);
        const options = { range: new vscode.Range(line, 0, line, 0), renderOptions: { after: { contentText: inlineText(entry) } } };
        (entry.alert.severity === 'critical' ? criticals : warnings).push(options);
      }
      editor.setDecorations(this.warningDecoration, warnings);
      editor.setDecorations(this.criticalDecoration, criticals);
    }
  }

  private async hover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const entries = (this.book.byFile().get(doc.uri.fsPath) ?? []).filter((e) => e.alert.source!.line - 1 === pos.line);
    if (entries.length === 0) return undefined;
    const md = new vscode.MarkdownString();
    const links = new Set<string>();
    for (const entry of entries) {
      const a = entry.alert;
      md.appendMarkdown(`**Loss Radar** · ${a.severity} · \`${a.kind}\` · run *${escapeMd(entry.runName)}* · step ${a.step}\n\n`);
      md.appendText(a.message + '\n\n');
      // The run's actions as command links; only these commands are enabled in the hover.
      const offered = this.actionsFor(entry.runId);
      if (offered.length > 0) {
        const args = encodeURIComponent(JSON.stringify([{ id: entry.runId, alertStep: answeredStep(a) }]));
        md.appendMarkdown(offered.map((o) => `[${o.label}](command:${o.commandId}?${args})`).join(' · ') + '\n\n');
        for (const o of offered) links.add(o.commandId);
      }
      const run = await this.store.get(entry.runId);
      const series = run?.series.get(a.metric);
      if (series) {
        md.appendMarkdown(`| step | ${escapeMd(a.metric)} |\n|---:|---:|\n`);
        for (const [step, value] of valuesAround(series.steps, series.values, a.step)) {
          md.appendMarkdown(`| ${step === a.step ? `**${step}**` : step} | ${fmt(value)} |\n`);
        }
      }
    }
    md.isTrusted = { enabledCommands: [...links] };
    return new vscode.Hover(md);
  }

  private async notify(entry: LocatedAlert): Promise<void> {
    const others = this.book.openFor(entry.runId).filter((a) => a.id !== entry.alert.id);
    if (!this.policy.opened(entry.runId, entry.alert, others)) return;
    // Stop Run only while there is something to stop; a click after the run ended is answered by
    // the command itself (it says the run already ended).
    const running = (await this.store.get(entry.runId))?.status === 'running';
    const actions = notificationActions(running, running ? this.actionsFor(entry.runId) : []);
    const text = `Loss Radar: ${entry.runName} at step ${entry.alert.step}: ${entry.alert.message}`;
    const choice = await (entry.alert.severity === 'critical' ? vscode.window.showErrorMessage(text, ...actions) : vscode.window.showWarningMessage(text, ...actions));
    const action = actionByLabel(choice);
    if (action) await vscode.commands.executeCommand(action.commandId, { id: entry.runId, alertStep: answeredStep(entry.alert) });
    if (choice === 'Stop Run') await vscode.commands.executeCommand('lossradar.stopRun', { id: entry.runId });
    if (choice === 'Open Dashboard') await vscode.commands.executeCommand('lossradar.openDashboard', { id: entry.runId });
  }

  dispose(): void {
    this.diagnostics.dispose();
    this.warningDecoration.dispose();
    this.criticalDecoration.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
