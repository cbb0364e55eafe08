// `lossradar run EXPERIMENT [--python P] [--runs DIR] [-- trainer args…]`: the hub, the reference
// trainer launched against it, and a live terminal view with the alerts (design.md §6).
import * as path from 'node:path';
import { AlertMonitor } from '../detect/alertMonitor';
import { Hub } from '../hub/hub';
import { sdkPath, trainerEnv } from '../launch/trainerEnv';
import { TrainerProcess } from '../launch/trainerProcess';
import { RunStore } from '../store/runStore';
import { flag, UsageError, type ParsedArgs } from './args';
import { LiveLine } from './liveLine';

export async function run(args: ParsedArgs, trainerArgs: string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const [experiment, ...extra] = args.positional;
  if (!experiment || extra.length > 0) throw new UsageError('run takes one EXPERIMENT name (e.g. lm-diverge)');
  const python = flag(args, 'python') ?? process.env.LOSSRADAR_PYTHON ?? 'python3';
  const runsDir = path.resolve(flag(args, 'runs') ?? path.join('.lossradar', 'runs'));
  const store = new RunStore(runsDir);
  const hub = new Hub({ store });
  const monitor = new AlertMonitor(hub);
  const view = new LiveLine(out);
  const runId = store.newRunId(experiment);
  let alerts = 0;
  let critical = 0;
  hub.on('runStarted', (r, resumed) => r.id === runId && view.print(`${resumed ? 'resumed' : 'started'} run ${r.id}`));
  hub.on('rows', (r, rows) => r.id === runId && view.rowsArrived(rows));
  hub.on('problem', (p) => view.print(`hub: ${p}`));
  monitor.on('alert', (_r, a) => {
    if (a.state === 'open') {
      alerts += 1;
      if (a.severity === 'critical') critical += 1;
    }
    view.alert(a);
  });
  await hub.listen();
  const root = path.resolve(__dirname, '..');
  const trainer = new TrainerProcess({
    command: python,
    args: ['-m', 'lossradar.train', '--experiment', experiment, ...trainerArgs],
    cwd: process.cwd(),
    env: trainerEnv(process.env, hub, runId, sdkPath(root)),
  });
  view.print(`Loss Radar: ${python} -m lossradar.train --experiment ${experiment} ${trainerArgs.join(' ')} (hub ${hub.url}, runs in ${runsDir})`);
  const interrupt = () => void trainer.stop();
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const exit = await trainer.exited;
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  view.finish();
  const stored = await store.get(runId);
  if (stored) {
    // A trainer that died without saying `end` failed; its last words are the reason.
    const crashed = stored.meta.status === 'running' && (exit.code !== 0 || exit.signal !== null);
    await stored.updateMeta({
      exit: { code: exit.code, signal: exit.signal },
      ...(crashed ? { status: 'failed' as const, error: trainer.lastStderrLines(5).join('\n') || `exited with ${exit.code ?? exit.signal}`, endedAt: Date.now() / 1000 } : {}),
    });
  }
  await hub.close();
  monitor.dispose();
  await store.dispose();
  if (exit.error || !stored) {
    out.write(`Loss Radar: the trainer ${exit.error ?? 'never connected to the hub'}.\n`);
    for (const line of trainer.lastStderrLines(10)) out.write(`  ${line}\n`);
    return exit.code ?? 1;
  }
  out.write(
    `Loss Radar: run ${runId} ${stored.meta.status}; ${stored.rowCount} rows, ${alerts} alerts (${critical} critical); ` +
      `files in ${stored.dir}; replay with: node ${path.relative(process.cwd(), path.join(root, 'dist', 'cli.js'))} detect ${path.relative(process.cwd(), stored.dir)} --format text\n`,
  );
  return exit.code ?? 1;
}
