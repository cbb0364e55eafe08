import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { builtInExperiments, commandLine, describeCommand, loadExperiments, validateExperiment } from '../../src/launch/experiments';
import { tempDir } from '../helpers/tmp';

test('experiment files load; a bad one is reported with its file and what is wrong, the rest still load', async () => {
  const { dir, cleanup } = tempDir();
  writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ name: 'small', script: 'train.py', args: ['--lr', '1e-3'] }));
  writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ name: 'bad', script: 'train.py', args: '--lr 1e-3' }));
  writeFileSync(path.join(dir, 'c.json'), '{ "name": ');
  writeFileSync(path.join(dir, 'd.json'), JSON.stringify({ name: 'both', script: 'a.py', module: 'b' }));
  writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
  const { experiments, problems } = await loadExperiments(dir);
  assert.deepEqual(experiments.map((e) => e.experiment.name), ['small']);
  assert.deepEqual(
    problems.map((p) => [path.basename(p.file), p.message.replace(/^(not valid JSON): .*/, '$1')]),
    [['b.json', 'args: expected array, got string "--lr 1e-3"'], ['c.json', 'not valid JSON'], ['d.json', 'give exactly one of "script" or "module"']],
  );
  cleanup();
});

test('unknown keys are refused, so a typo does not silently do nothing', () => {
  const r = validateExperiment({ name: 'x', script: 'a.py', agrs: [] });
  assert.equal(r.ok, false);
});

test('the command line: script or module, torchrun, GPUs, cwd', () => {
  const plain = commandLine({ name: 'p', script: 'train.py', args: ['--epochs', '3'] }, '/venv/bin/python', '/w');
  assert.deepEqual(plain, { command: '/venv/bin/python', args: ['train.py', '--epochs', '3'], cwd: '/w', env: {} });
  const ddp = commandLine({ name: 'd', module: 'pkg.train', launcher: 'torchrun', nproc: 2, gpus: [0, 1], cwd: 'sub', python: 'python3.12' }, 'python3', '/w');
  assert.deepEqual(ddp, { command: 'python3.12', args: ['-m', 'torch.distributed.run', '--nproc_per_node', '2', '-m', 'pkg.train'], cwd: '/w/sub', env: { CUDA_VISIBLE_DEVICES: '0,1' } });
  assert.equal(describeCommand({ command: 'python', args: ['a b.py', "it's"], cwd: '/', env: { X: '1' } }), `X=1 python 'a b.py' 'it'\\''s'`);
});

test('built-in experiments come from the SDK’s experiments folder', async () => {
  const { dir, cleanup } = tempDir();
  mkdirSync(path.join(dir, 'lossradar_trainer', 'experiments'), { recursive: true });
  writeFileSync(path.join(dir, 'lossradar_trainer', 'experiments', 'lm-diverge.json'), JSON.stringify({ description: 'explodes' }));
  writeFileSync(path.join(dir, 'lossradar_trainer', 'experiments', 'experiment.schema.json'), '{}');
  const list = await builtInExperiments(dir);
  assert.deepEqual(list.map((e) => [e.experiment.name, e.experiment.description, e.experiment.args]), [['lm-diverge', 'explodes', ['--experiment', 'lm-diverge']]]);
  cleanup();
});
