// The real hub, as `lossradar serve` runs it (src/cli/serve.ts, with its AutoRescue), that also
// presses the editor's buttons: each `--command-at=STEP:JSON` (repeatable) is sent to a run once it
// has stored a row at a step ≥ STEP and its SDK has announced the action (as the editor offers only
// those, docs/rescue.md), through Hub.sendCommand as the editor's commands do. Each change of a
// run's capabilities is printed on stdout as {"runId","capabilities"}, after serve's own lines.
// Started by tests/conftest.py's `commanding_hub` from the repository root.
import { serve } from '../../src/cli/serve';
import type { ParsedArgs } from '../../src/cli/args';
import type { Command } from '../../src/protocol/wire';

const flags = new Map<string, string[]>();
const planned: { at: number; command: Command }[] = [];
for (const arg of process.argv.slice(2)) {
  const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
  if (!match) throw new Error(`commanding_hub: expected --name=value, got ${arg}`);
  if (match[1] === 'command-at') {
    const colon = match[2].indexOf(':');
    planned.push({ at: Number(match[2].slice(0, colon)), command: JSON.parse(match[2].slice(colon + 1)) as Command });
  } else flags.set(match[1], [match[2]]);
}
const args: ParsedArgs = { positional: [], flags, help: false };

async function main(): Promise<void> {
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const { hub, stop } = await serve(args);
  const sent = new Map<string, Set<number>>();
  const announce = (runId: string) => process.stdout.write(JSON.stringify({ runId, capabilities: hub.capabilities(runId) }) + '\n');
  hub.on('runStarted', (run) => announce(run.id));
  hub.on('capabilities', (run) => announce(run.id));
  hub.on('rows', (run, rows) => {
    const done = sent.get(run.id) ?? new Set<number>();
    sent.set(run.id, done);
    const last = Math.max(...rows.map((r) => r.step));
    const actions: readonly string[] = hub.capabilities(run.id)?.actions ?? [];
    planned.forEach((p, i) => {
      if (done.has(i) || last < p.at) return;
      if (p.command.command !== 'stop' && p.command.command !== 'rescue' && !actions.includes(p.command.command)) return;
      if (hub.sendCommand(run.id, p.command)) {
        done.add(i);
        process.stderr.write(`commanding_hub: sent ${JSON.stringify(p.command)} to ${run.id} after step ${last}\n`);
      }
    });
  });
  await signalled;
  await stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`commanding_hub: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
