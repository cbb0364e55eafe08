// `lossradar import` and `lossradar detect LOG_PATH` end to end: TensorBoard event files written by
// torch's SummaryWriter, read by the SDK's readers through the built CLI, stored as runs the store
// lists and the detectors replay (docs/import.md).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, truncateSync, readdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRows } from '../../src/detect/replay';
import { importLogs, ImportLogsError } from '../../src/import/importLogs';
import { RunStore } from '../../src/store/runStore';
import { CLI } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tmp';

const root = path.resolve(__dirname, '..', '..');
const trainer = path.join(root, 'trainer');
const { dir, cleanup } = tempDir('lossradar-import-');
const logs = path.join(dir, 'tb');
const STEPS = 300;
const SPIKE = 200;
const NAN = 250;
let python = '';

/** The project's Python environment (torch, tensorboard): LOSSRADAR_PYTHON, else scripts/python-env.sh's. */
function projectPython(): string {
  if (process.env.LOSSRADAR_PYTHON) return process.env.LOSSRADAR_PYTHON;
  const venv = execFileSync('bash', [path.join(root, 'scripts', 'python-env.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  return path.join(venv, 'bin', 'python');
}

before(
  () => {
    python = projectPython();
    // Two runs of a TensorBoard logdir: a calm loss with a spike and a NaN, and a healthy one.
    const script = `
import math, sys
from torch.utils.tensorboard import SummaryWriter
for name, spike in (("spiky", True), ("calm", False)):
    w = SummaryWriter(f"${logs}/{name}")
    for s in range(${STEPS}):
        loss = 2.0 + (s % 7) * 0.01
        if spike and s == ${SPIKE}: loss = 500.0
        if spike and s == ${NAN}: loss = math.nan
        w.add_scalar("loss", loss, s)
        w.add_scalar("lr", 0.001, s)
    w.close()
`;
    execFileSync(python, ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  },
  { timeout: 30 * 60_000 },
);
after(cleanup);

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, LOSSRADAR_PYTHON: python, ...env } });

test('import turns a TensorBoard logdir into one completed run per run folder, NaN and spike included', async () => {
  const runs = path.join(dir, 'runs-import');
  const r = cli(['import', logs, '--runs', runs]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  for (const line of lines) assert.match(line, /^run \S+ {2}tb\/(spiky|calm) {2}\(tensorboard: 300 rows, 2 metrics\) {2}from /);

  const store = new RunStore(runs);
  const listed = await store.list();
  assert.deepEqual(listed.map((s) => [s.name, s.status]).sort(), [['tb/calm', 'completed'], ['tb/spiky', 'completed']]);
  const spiky = listed.find((s) => s.name === 'tb/spiky')!;
  const run = (await store.get(spiky.id))!;
  assert.equal(run.rowCount, STEPS);
  assert.deepEqual(run.meta.config, { imported_from: { format: 'tensorboard', path: path.join(logs, 'spiky') } });
  const { rows, problems } = await loadRows(spiky.dir);
  assert.deepEqual(problems, []);
  assert.deepEqual(rows.map((row) => row.step), [...Array(STEPS).keys()]);
  assert.equal(rows[SPIKE].values.loss, 500);
  assert.ok(Number.isNaN(rows[NAN].values.loss));
  assert.equal(rows[1].values.lr, 0.001);
  assert.ok(rows.every((row) => typeof row.time === 'number' && row.time >= spiky.createdAt));
  await store.dispose();
});

test('detect reads a log folder directly and replays it as it replays the imported run', () => {
  const runs = path.join(dir, 'runs-detect');
  assert.equal(cli(['import', path.join(logs, 'spiky'), '--runs', runs]).status, 0);
  const [id] = readdirSync(runs);
  const fromRun = cli(['detect', path.join(runs, id)]);
  const fromLogs = cli(['detect', path.join(logs, 'spiky')]);
  assert.equal(fromLogs.status, 1, fromLogs.stderr); // a critical alert fired
  assert.equal(fromLogs.stderr, '');
  assert.equal(fromLogs.stdout, fromRun.stdout);
  const alerts = fromLogs.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; step: number; severity: string; state: string });
  const opened = alerts.filter((a) => a.state === 'open').map((a) => [a.kind, a.step, a.severity]);
  assert.deepEqual(opened.slice(0, 1), [['loss-spike', SPIKE, 'critical']]);
  assert.ok(opened.some(([kind, step]) => kind === 'nonfinite' && step === NAN), JSON.stringify(opened));
  const text = cli(['detect', path.join(logs, 'spiky'), '--format', 'text']);
  assert.match(text.stdout, new RegExp(`^step ${SPIKE} {2}CRITICAL {2}loss-spike {2}loss: `));
  const calm = cli(['detect', path.join(logs, 'calm')]);
  assert.equal(calm.status, 0, calm.stderr);
  assert.equal(calm.stdout, '');
});

test('detect of a folder of several runs is a read error that names them; nothing is left behind', () => {
  const scratch = () => readdirSync(os.tmpdir()).filter((n) => n.startsWith('lossradar-detect-'));
  const before = scratch();
  const r = cli(['detect', logs]);
  assert.deepEqual(scratch(), before);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^lossradar detect: cannot read .*tb: .*tb holds 2 runs \(.*tb\/calm, .*tb\/spiky\); detect replays one: give one of their folders\n$/);
});

test('a torn event file is imported up to the tear, with a warning naming the file and the byte', async () => {
  const torn = path.join(dir, 'torn');
  execFileSync('cp', ['-r', path.join(logs, 'spiky'), torn]);
  const [file] = readdirSync(torn);
  const size = statSync(path.join(torn, file)).size;
  truncateSync(path.join(torn, file), size - 7);
  const runs = path.join(dir, 'runs-torn');
  const r = cli(['import', torn, '--runs', runs, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.runs.length, 1);
  // Each step wrote loss, then lr: the tear took the last step's lr record only.
  const { rows } = await loadRows(result.runs[0].dir);
  assert.equal(rows.length, STEPS);
  assert.deepEqual(Object.keys(rows[STEPS - 1].values), ['loss']);
  assert.deepEqual(Object.keys(rows[STEPS - 2].values).sort(), ['loss', 'lr']);
  assert.match(r.stderr, new RegExp(`^lossradar import: warning: ${path.join(torn, file)}: record \\d+ at byte \\d+ of ${size - 7} is truncated or corrupt; kept the \\d+ record\\(s\\) before it`));
});

test('a Python without tensorboard says how to install it; a missing Python says which', () => {
  const plain = 'python3';
  assert.notEqual(spawnSync(plain, ['-c', 'import tensorboard']).status, 0, 'this test needs a python3 without tensorboard');
  const runs = path.join(dir, 'runs-plain');
  const r = cli(['import', logs, '--runs', runs, '--python', plain]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /lossradar import: error: .*tb\/calm: reading TensorBoard event files needs the tensorboard package: pip install tensorboard/);
  assert.ok(!existsSync(runs) || readdirSync(runs).length === 0);
  const missing = cli(['import', logs, '--runs', runs], { LOSSRADAR_PYTHON: '/nonexistent/python3' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^lossradar import: Python interpreter "\/nonexistent\/python3" was not found \(ENOENT\)/);
});

test('import answers --help and refuses an unknown format by name', () => {
  const help = cli(['import', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage:\n {2}lossradar import PATH /);
  const bad = cli(['import', logs, '--from', 'wandb']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^lossradar: --from: expected one of tensorboard, huggingface, lightning, dvclive, got "wandb"\nusage:\n {2}lossradar import /);
  assert.equal(cli(['import']).status, 2);
});

test('importLogs, the extension’s entry, returns the run ids and throws when nothing was imported', async () => {
  const runs = path.join(dir, 'runs-api');
  const result = await importLogs({ path: path.join(logs, 'calm'), runsDir: runs, name: 'calm run', python, sdk: trainer });
  assert.equal(result.runIds.length, 1);
  assert.deepEqual(readdirSync(runs), result.runIds);
  assert.equal(result.runs[0].name, 'calm run');
  assert.deepEqual(result.warnings, []);
  await assert.rejects(importLogs({ path: path.join(dir, 'nothing-here'), runsDir: runs, python, sdk: trainer }), (e: unknown) => {
    assert.ok(e instanceof ImportLogsError);
    assert.match(e.message, /nothing-here: no such file or folder/);
    return true;
  });
});
