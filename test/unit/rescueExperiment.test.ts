// An experiment file's rescue policy (docs/rescue.md) is checked by the schema and reaches the
// trainer as LOSSRADAR_RESCUE, which lossradar.init() reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLine, validateExperiment } from '../../src/launch/experiments';

test('a rescue policy in an experiment file travels to the script as LOSSRADAR_RESCUE', () => {
  const checked = validateExperiment({ name: 'lm', script: 'train.py', rescue: { mode: 'auto', maxRescues: 1, lrFactor: 0.25 } });
  assert.ok(checked.ok);
  const line = commandLine(checked.experiment, 'python3', '/ws');
  assert.deepEqual(JSON.parse(line.env.LOSSRADAR_RESCUE), { mode: 'auto', maxRescues: 1, lrFactor: 0.25 });
  assert.equal(commandLine({ name: 'plain', script: 'train.py' }, 'python3', '/ws').env.LOSSRADAR_RESCUE, undefined);
});

test('a policy the SDK would refuse is refused in the file', () => {
  for (const rescue of [{ mode: 'always' }, { mode: 'auto', lrFactor: 2 }, { mode: 'auto', retries: 3 }, { maxRescues: 1 }]) {
    const checked = validateExperiment({ name: 'lm', script: 'train.py', rescue });
    assert.equal(checked.ok, false, JSON.stringify(rescue));
  }
});
