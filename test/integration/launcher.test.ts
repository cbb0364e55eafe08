// The launcher against a real hub and real processes: a stopped run is "stopped" however its
// trainer dies of the interrupt, a crash is "failed" with its last words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Hub } from '../../src/hub/hub';
import { Launcher } from '../../src/launch/launcher';
import { RunStore } from '../../src/store/runStore';
import { tempDir, waitFor } from '../helpers/tmp';

async function setup() {
  const tmp = tempDir();
  const store = new RunStore(tmp.dir, { flushMs: 20 });
  const hub = new Hub({ store });
  await hub.listen();
  const launcher = new Launcher(hub, store, path.resolve(__dirname, '..', '..', 'trainer'));
  const close = async () => {
    await launcher.dispose();
    await hub.close();
    await store.dispose();
    tmp.cleanup();
  };
  return { store, launcher, close, dir: tmp.dir };
}

const python = (code: string) => ({ command: 'python3', args: ['-u', '-c', code], cwd: process.cwd(), env: {} });

test('Stop on a script that does not catch KeyboardInterrupt still ends the run as stopped', async (t) => {
  const { store, launcher, close, dir } = await setup();
  t.after(close);
  const exited = new Promise((resolve) => launcher.once('exited', (...args) => resolve(args)));
  const runId = await launcher.launch('sleepy', python('import os, time\nprint("pid", os.environ["LOSSRADAR_RUN_ID"], flush=True)\ntime.sleep(60)'));
  await waitFor(() => readFileSync(path.join(dir, runId, 'output.log'), 'utf8').includes(runId) || undefined, 'the trainer to start with its run id');
  assert.equal(await launcher.stop(runId, 2000), 'signalled');
  await exited;
  const meta = (await store.get(runId))!.meta;
  assert.equal(meta.status, 'stopped');
  assert.equal(meta.error, null);
  assert.match(readFileSync(path.join(dir, runId, 'output.log'), 'utf8'), /KeyboardInterrupt/);
});

test('a trainer that crashes fails its run with its last output as the error', async (t) => {
  const { store, launcher, close } = await setup();
  t.after(close);
  const exited = new Promise<[string, unknown, boolean, string[]]>((resolve) => launcher.once('exited', (...args) => resolve(args)));
  const runId = await launcher.launch('crashy', python('raise RuntimeError("CUDA out of memory")'));
  const [, , crashed, last] = await exited;
  assert.equal(crashed, true);
  assert.match(last.join('\n'), /RuntimeError: CUDA out of memory/);
  const meta = (await store.get(runId))!.meta;
  assert.equal(meta.status, 'failed');
  assert.match(meta.error ?? '', /CUDA out of memory/);
  assert.deepEqual(meta.exit, { code: 1, signal: null });
});
