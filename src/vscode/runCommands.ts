// The Runs view's commands for finding runs (docs/compare.md): "Filter Runs…", "Clear Runs Filter"
// and "Set Tags…". The input boxes say what is wrong with a filter or a tag as it is typed.
import * as vscode from 'vscode';
import { parseTagInput } from '../store/tags';
import type { RunStore, RunSummary } from '../store/runStore';
import { parseFilter } from '../view/runQuery';
import type { RunsTreeProvider } from './runsTree';

export async function filterRuns(tree: RunsTreeProvider): Promise<void> {
  const text = await vscode.window.showInputBox({
    title: 'Loss Radar: Filter Runs',
    value: tree.filterText,
    placeHolder: 'resnet  tag:baseline  lr<=0.001  status=completed  -diverge',
    prompt: 'Words match a run’s name, id, status or tags; tag:NAME a tag; KEY=VALUE, KEY<NUMBER… a config key or a column (steps, best, last, alerts). Empty shows every run.',
    validateInput: (value) => {
      const parsed = parseFilter(value);
      return 'error' in parsed ? parsed.error : undefined;
    },
  });
  if (text === undefined) return;
  const parsed = parseFilter(text);
  if (!('error' in parsed)) tree.setFilter(parsed);
}

export async function setTags(store: RunStore, run: RunSummary): Promise<void> {
  const text = await vscode.window.showInputBox({
    title: `Loss Radar: Tags of "${run.name}"`,
    value: (run.meta.tags ?? []).join(', '),
    placeHolder: 'baseline, lr-sweep',
    prompt: 'Comma-separated; empty removes every tag.',
    validateInput: (value) => {
      const parsed = parseTagInput(value);
      return 'error' in parsed ? parsed.error : undefined;
    },
  });
  if (text === undefined) return;
  const parsed = parseTagInput(text);
  if ('error' in parsed) return;
  await store.setTags(run.id, parsed.tags);
}
