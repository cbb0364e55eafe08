// `lossradar serve`: the hub without VS Code (design.md §6).
import * as path from 'node:path';
import { AlertMonitor } from '../detect/alertMonitor';
import { publishHub, defaultDiscoveryDir } from '../discovery/discovery';
import { Hub } from '../hub/hub';
import { AutoRescue } from '../rescue/autoRescue';
import { RunStore } from '../store/runStore';
import { flag, intFlag, type ParsedArgs } from './args';

export async function serve(args: ParsedArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<{ hub: Hub; monitor: AlertMonitor; stop: () => Promise<void> }> {
  const runsDir = path.resolve(flag(args, 'runs') ?? path.join('.lossradar', 'runs'));
  const store = new RunStore(runsDir);
  const hub = new Hub({
    store,
    port: intFlag(args, 'port', 0),
    token: flag(args, 'token'),
    heartbeatMs: intFlag(args, 'heartbeat-ms', 10_000),
    helloTimeoutMs: intFlag(args, 'hello-timeout-ms', 10_000),
    reconnectWindowMs: intFlag(args, 'reconnect-window-ms', 30_000),
  });
  const say = (line: string) => err.write(`lossradar: ${line}\n`);
  hub.on('problem', say);
  store.on('problem', say);
  hub.on('runStarted', (run, resumed) => say(`${resumed ? 'resumed' : 'started'} run ${run.id} in ${run.dir}`));
  store.on('status', (run) => run.status !== 'running' && say(`run ${run.id} ${run.status}${run.meta.error ? `: ${run.meta.error}` : ''}`));
  hub.on('disconnected', (run) => say(`run ${run.id} disconnected (${run.rowCount} rows)`));
  // Alerts go to stdout as JSON lines after the {"url","token"} line, for whoever drives serve.
  const monitor = new AlertMonitor(hub);
  monitor.on('alert', (run, alert) => out.write(JSON.stringify({ runId: run.id, alert }) + '\n'));
  // Runs whose policy is auto are rescued on a critical alert (docs/rescue.md).
  const rescue = new AutoRescue(hub, monitor, (runId, alert) => say(`asked run ${runId} to rescue itself (${alert.kind} at step ${alert.step})`));
  const { url } = await hub.listen();
  const folders = args.flags.get('folder') ?? [];
  const unpublish = folders.length
    ? await publishHub(flag(args, 'discovery-dir') ?? defaultDiscoveryDir(), {
        url,
        token: hub.token,
        pid: process.pid,
        folders: folders.map((f) => path.resolve(f)),
        startedAt: Date.now() / 1000,
      })
    : async () => undefined;
  out.write(JSON.stringify({ url, token: hub.token, runs: runsDir }) + '\n');
  const stop = async () => {
    await unpublish();
    await hub.close();
    rescue.dispose();
    monitor.dispose();
    await store.dispose();
  };
  return { hub, monitor, stop };
}
