// Training-thread latency of the Python SDK (issue 15): trainer/bench/log_latency.py calls
// `run.log(step, **20 scalars)` 2 000 times a second for 30 s against `lossradar serve`, SIGKILLs
// the hub halfway and restarts it on the same port a second later, and times every call. Targets:
// p99 < 1 ms, max < 5 ms; `dropped` (what the SDK reported, meta.droppedRows) must equal
// rows − stored (the rows missing from metrics.jsonl).
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';

export interface PythonLogResult {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  rows: number;
  stored: number;
  dropped: number;
}

const ROOT = path.resolve(__dirname, '..');

export async function benchPythonLog(): Promise<PythonLogResult> {
  const venv = execFileSync('bash', [path.join(ROOT, 'scripts', 'python-env.sh')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim()
    .split('\n')
    .pop()!;
  const child = spawn(path.join(venv, 'bin', 'python'), [path.join(ROOT, 'trainer', 'bench', 'log_latency.py')], {
    cwd: path.join(ROOT, 'trainer'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // The SDK warns on stderr while the hub is down; kept for the error message only.
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`trainer/bench/log_latency.py exited with ${code}: ${err}`);
  const r = JSON.parse(line) as PythonLogResult;
  return { p50Ms: r.p50Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, rows: r.rows, stored: r.stored, dropped: r.dropped };
}
