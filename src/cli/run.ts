// `lossradar run EXPERIMENT [--python P] [--runs DIR] [-- trainer args…]`: the hub, the reference
// trainer launched against it, and a live terminal view with the alerts (design.md §6).
import * as path from 'node:path';
import { AlertMonitor } from '../detect/alertMonitor';
import { Hub } from '../hub/hub';
import { Launcher } from '../launch/launcher';
import { preflight } from '../launch/preflight';
import { sdkPath } from '../launch/trainerEnv';
import { RunStore } from '../store/runStore';
import { flag, pythonFlag, UsageError, type ParsedArgs } from './args';
import { LiveLine } from './liveLine';

export async function run(args: ParsedArgs, trainerArgs: string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const [experiment, ...extra] = args.positional;
  if (!experiment || extra.length > 0) throw new UsageError('run takes one EXPERIMENT name (e.g. lm-diverge)');
  const python = pythonFlag(args);
  const check = await preflight(python);
  if (!check.ok) {
    out.write(`Loss Radar: ${check.message}\n`);
    return 2;
  }
  const runsDir = path.resolve(flag(args, 'runs') ?? path.join('.lossradar', 'runs'));
  const store = new RunStore(runsDir);
  const hub = new Hub({ store });
  const monitor = new AlertMonitor(hub);
  const view = new LiveLine(out);
  const launcher = new Launcher(hub, store, sdkPath(path.resolve(__dirname, '..')));
  let runId = '';
  let alerts = 0;
  let critical = 0;
  hub.on('runStarted', (r) => r.id === runId && view.print(`connected: run ${r.id}`));
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
  const args_ = ['-m', 'lossradar_trainer.train', '--experiment', experiment, ...trainerArgs];
  view.print(`Loss Radar: ${python} ${args_.join(' ')}  (torch ${check.torch}; hub ${hub.url}; runs in ${runsDir})`);
  const exited = new Promise<[number | null, boolean, string[]]>((resolve) =>
    launcher.once('exited', (_id, exit, crashed, lastStderr) => resolve([exit.code, crashed, lastStderr])),
  );
  runId = await launcher.launch(experiment, { command: python, args: args_, cwd: process.cwd(), env: {} }, { experiment });
  const interrupt = () => void launcher.stop(runId).catch(() => undefined);
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const [code, crashed, lastStderr] = await exited;
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  view.finish();
  const stored = (await store.get(runId))!;
  await hub.close();
  monitor.dispose();
  await store.dispose();
  if (crashed) {
    out.write(`Loss Radar: the trainer crashed (exit ${code}):\n`);
    for (const line of lastStderr) out.write(`  ${line}\n`);
  }
  const cli = path.relative(process.cwd(), path.resolve(__dirname, 'cli.js'));
  out.write(
    `Loss Radar: run ${runId} ${stored.meta.status}; ${stored.rowCount} rows, ${alerts} alerts (${critical} critical); ` +
      `files in ${path.relative(process.cwd(), stored.dir) || '.'}; replay: node ${cli} detect ${path.relative(process.cwd(), stored.dir)} --format text\n`,
  );
  return code ?? 1;
}
