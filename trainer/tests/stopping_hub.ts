// The real hub, as `lossradar serve` runs it (src/cli/serve.ts), with the one thing that command
// cannot do from outside: press Stop Run. Once a run has stored a row at a step ≥ --stop-at-step,
// the hub sends that run `stop`, as the editor's Stop Run does (Launcher.stop → Hub.sendCommand).
// Started by tests/conftest.py (`node --import tsx trainer/tests/stopping_hub.ts --runs=DIR
// --stop-at-step=N`, from the repository root); prints serve's {"url","token","runs"} line.
import { serve } from '../../src/cli/serve';
import type { ParsedArgs } from '../../src/cli/args';

const flags = new Map<string, string[]>();
let stopAt = 0;
for (const arg of process.argv.slice(2)) {
  const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
  if (!match) throw new Error(`stopping_hub: expected --name=value, got ${arg}`);
  if (match[1] === 'stop-at-step') stopAt = Number(match[2]);
  else flags.set(match[1], [match[2]]);
}
const args: ParsedArgs = { positional: [], flags, help: false };

async function main(): Promise<void> {
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const { hub, stop } = await serve(args);
  const stopped = new Set<string>();
  hub.on('rows', (run: { id: string }, rows: { step: number }[]) => {
    if (stopped.has(run.id) || !rows.some((r) => r.step >= stopAt)) return;
    if (hub.sendCommand(run.id, 'stop')) {
      stopped.add(run.id);
      process.stderr.write(`stopping_hub: sent stop to ${run.id}\n`);
    }
  });
  await signalled;
  await stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`stopping_hub: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
