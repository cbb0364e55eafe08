// `lossradar detect FILE.jsonl|RUN_DIR [--format json|text] [--set name=value]…` (README, "Command line").
// `--set` takes a detector threshold (spikeZ=12) or the metric that plays a role (loss=train/loss,
// lr=learning_rate, grad_norm=…, loss/val=…; docs/metrics.md).
// Exit code: 1 when a critical alert fired, 0 when none did, 2 for a usage or read error, so the
// command can guard a CI job.
import { loadRows, replay, type LoadedRows } from '../detect/replay';
import type { Alert } from '../detect/alert';
import { isMetricRole, type RoleOverrides } from '../metrics/roles';
import { bundledSdk } from '../import/cli';
import { ImportLogsError, isRunTarget, loadLogRows } from '../import/importLogs';
import { choiceFlag, pythonFlag, UsageError, type ParsedArgs } from './args';

export async function detect(args: ParsedArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [target, ...extra] = args.positional;
  if (!target || extra.length > 0) throw new UsageError('detect takes one FILE.jsonl, FILE.jsonl.gz, RUN_DIR or LOG_PATH');
  const format = choiceFlag(args, 'format', ['json', 'text'], 'json');
  const settings: Record<string, number> = {};
  const metrics: RoleOverrides = {};
  for (const pair of args.flags.get('set') ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`--set: expected name=value, got ${JSON.stringify(pair)}`);
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (isMetricRole(name)) {
      if (!value) throw new UsageError(`--set ${name}=: expected the name of a logged metric`);
      metrics[name] = value;
    } else settings[name] = Number(value);
  }
  let loaded: LoadedRows;
  try {
    if (await isRunTarget(target)) loaded = await loadRows(target);
    else {
      // Not a run of the store: another tool's logs, read as `lossradar import` reads them (docs/import.md).
      const logs = await loadLogRows({ path: target, python: pythonFlag(args), sdk: bundledSdk() });
      for (const w of logs.warnings) err.write(`lossradar detect: ${w}\n`);
      loaded = logs.loaded;
    }
  } catch (e) {
    const why = e instanceof ImportLogsError ? e.message.replace(/\n/g, '; ') : (e as Error).message;
    err.write(`lossradar detect: cannot read ${target}: ${why}\n`);
    return 2;
  }
  for (const p of loaded.problems) err.write(`lossradar detect: ${loaded.file}:${p.line}: ${p.message}\n`);
  let alerts: Alert[];
  try {
    alerts = replay(loaded.rows, settings, metrics);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  for (const alert of alerts) out.write((format === 'json' ? JSON.stringify(alert) : textLine(alert)) + '\n');
  return alerts.some((a) => a.severity === 'critical') ? 1 : 0;
}

function textLine(a: Alert): string {
  const where = a.source ? `  (${a.source.file}:${a.source.line})` : '';
  if (a.state === 'closed') return `step ${a.closedStep}  cleared   ${a.kind} on ${a.metric} (opened at step ${a.step})`;
  return `step ${a.step}  ${a.severity === 'critical' ? 'CRITICAL' : 'warning '}  ${a.kind}  ${a.metric}: ${a.message}${where}`;
}
