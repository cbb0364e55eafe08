// Launched trainers are real processes: output captured, stop escalates, a missing interpreter is
// a clear error rather than a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TrainerProcess } from '../../src/launch/trainerProcess';
import { isProcessAlive } from '../../src/store/meta';
import { tempDir, waitFor } from '../helpers/tmp';

const py = (code: string) => ({ command: 'python3', args: ['-u', '-c', code], cwd: process.cwd(), env: process.env });

test('output goes to output.log and the exit code is reported', async () => {
  const { dir, cleanup } = tempDir();
  const log = path.join(dir, 'output.log');
  const p = new TrainerProcess({ ...py('import sys; print("step 1"); print("boom", file=sys.stderr); sys.exit(3)'), outputLog: log });
  const exit = await p.exited;
  assert.deepEqual([exit.code, exit.signal], [3, null]);
  // With a log, stdout and stderr share the file: the last lines are the run's last words.
  assert.deepEqual(p.lastStderrLines(5), ['step 1', 'boom']);
  assert.equal(readFileSync(log, 'utf8'), 'step 1\nboom\n');
  cleanup();
});

test('without a log, stderr is kept apart for the crash message', async () => {
  const p = new TrainerProcess(py('import sys; print("out"); print("err", file=sys.stderr); sys.exit(1)'));
  await p.exited;
  assert.deepEqual(p.lastStderrLines(5), ['err']);
});

test('stop sends SIGINT first, and a trainer that handles it exits on its own', async () => {
  const p = new TrainerProcess(py('import time\ntry:\n    print("ready"); time.sleep(60)\nexcept KeyboardInterrupt:\n    print("clean stop"); raise SystemExit(0)'));
  await new Promise<void>((resolve) => p.on('output', (_s, t) => t.includes('ready') && resolve()));
  const exit = await p.stop(2000);
  assert.equal(exit.code, 0);
});

test('a trainer that ignores SIGINT and SIGTERM is killed with its whole process group', async () => {
  const code = [
    'import signal, subprocess, sys, time',
    'signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN)',
    'child = subprocess.Popen([sys.executable, "-c", "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])',
    'print(child.pid, flush=True); time.sleep(60)',
  ].join('\n');
  const p = new TrainerProcess(py(code));
  const workerPid = await new Promise<number>((resolve) => p.on('output', (s, t) => s === 'stdout' && resolve(Number(t.trim()))));
  const exit = await p.stop(300);
  // Killed, not ended by itself: it would have slept a minute and exited with a code.
  assert.equal(exit.signal, 'SIGKILL');
  await waitFor(() => !isProcessAlive(workerPid) || undefined, 'the worker process to be gone');
});

test('a missing interpreter is a clear error at once', async () => {
  const p = new TrainerProcess({ command: '/nonexistent/python3', args: [], cwd: process.cwd(), env: process.env });
  const exit = await p.exited;
  assert.match(exit.error ?? '', /cannot start \/nonexistent\/python3: spawn \/nonexistent\/python3 ENOENT/);
});
