import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseTrainerFrame, formatPath } from '../../src/protocol/validate';
import { decodeNumber, encodeNumber } from '../../src/protocol/numbers';
import { MAX_FRAME_BYTES, MAX_ROWS_PER_FRAME } from '../../src/protocol/wire';

function refused(text: string): { code: string; message: string } {
  const parsed = parseTrainerFrame(text);
  assert.equal(parsed.ok, false, `expected ${text.slice(0, 80)} to be refused`);
  return parsed as { code: string; message: string };
}

test('a well-formed scalars frame passes with every row', () => {
  const parsed = parseTrainerFrame(JSON.stringify({ type: 'scalars', seq: 4, rows: [{ step: 1, time: 1.5, values: { loss: 2.3, 'calibration/ece': 0.04 }, source: { file: 'train.py', line: 88 } }] }));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.badRows, []);
});

test('non-finite values travel as "NaN", "Infinity" and "-Infinity" and decode to numbers', () => {
  const parsed = parseTrainerFrame(JSON.stringify({ type: 'scalars', rows: [{ step: 1, values: { a: 'NaN', b: 'Infinity', c: '-Infinity' } }] }));
  assert.ok(parsed.ok && parsed.badRows.length === 0);
  assert.ok(Number.isNaN(decodeNumber('NaN')));
  assert.equal(decodeNumber('Infinity'), Infinity);
  assert.equal(decodeNumber('-Infinity'), -Infinity);
  for (const v of [NaN, Infinity, -Infinity, 0, -2.5e-300, 1e308]) {
    const back = decodeNumber(encodeNumber(v));
    assert.ok(Object.is(back, v) || (Number.isNaN(v) && Number.isNaN(back)), `${v} round-trips`);
  }
});

test('a string value is refused with its path and what was expected, and only that row', () => {
  const parsed = parseTrainerFrame(JSON.stringify({ type: 'scalars', rows: [0, 1, 2, 3].map((i) => ({ step: i, values: { loss: i === 3 ? 'high' : 1 } })) }));
  assert.ok(parsed.ok);
  assert.equal(parsed.badRows.length, 1);
  assert.equal(parsed.badRows[0].index, 3);
  assert.equal(parsed.badRows[0].message, 'rows[3].values.loss: expected number or "NaN"/"Infinity"/"-Infinity", got string "high"');
});

test('a missing or negative step is named precisely', () => {
  const parsed = parseTrainerFrame(JSON.stringify({ type: 'scalars', rows: [{ values: {} }, { step: -1, values: {} }, { step: 1.5, values: {} }] }));
  assert.ok(parsed.ok);
  assert.deepEqual(
    parsed.badRows.map((r) => r.message),
    [
      'rows[0].step: missing (expected integer from 0 to 2^53 − 1)',
      'rows[1].step: expected integer from 0 to 2^53 − 1, got -1',
      'rows[2].step: expected integer from 0 to 2^53 − 1, got 1.5',
    ],
  );
});

test('invalid JSON, a non-object, a missing or unknown type each get their own code', () => {
  assert.equal(refused('{"type":"scalars",').code, 'invalid-json');
  assert.equal(refused('[1,2]').code, 'invalid-frame');
  assert.equal(refused('{"rows":[]}').message, 'type: expected string, got undefined');
  const unknown = refused('{"type":"telemetry"}');
  assert.equal(unknown.code, 'unknown-type');
  assert.match(unknown.message, /unknown frame type "telemetry" \(expected one of hello, scalars/);
  assert.equal(refused('{"type":"__proto__"}').code, 'unknown-type');
});

test('envelope errors refuse the whole frame', () => {
  assert.equal(refused(JSON.stringify({ type: 'scalars', rows: 'x' })).message, 'rows: expected array, got string "x"');
  assert.equal(refused(JSON.stringify({ type: 'hello', protocol: 1, runId: '../etc' })).message, 'runId: expected string matching ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ or null, got string "../etc"');
  assert.equal(refused(JSON.stringify({ type: 'end', status: 'exploded' })).message, 'status: expected "completed" or "failed" or "stopped", got string "exploded"');
});

test('a frame with more rows than the limit is refused before its rows are checked', () => {
  const r = refused(JSON.stringify({ type: 'scalars', rows: Array.from({ length: MAX_ROWS_PER_FRAME + 1 }, () => 0) }));
  assert.equal(r.code, 'too-many-rows');
  assert.match(r.message, /1001 rows exceed the limit of 1000 per frame/);
});

test('the two limits of a frame agree: the most rows a frame may carry, 4 KiB each, fit in its bytes', () => {
  // A row of ~70 metrics with long layer names, as a watched transformer logs them.
  const values = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`sa/blocks.${i}.attn.qkv/sign_diversity`, 0.123456789012345]));
  const row = { step: 123456789, time: 1764576000.123456, values, source: { file: '/home/user/project/train.py', line: 123 } };
  assert.ok(JSON.stringify(row).length <= 4096, `a wide row is ${JSON.stringify(row).length} bytes`);
  const frame = JSON.stringify({ type: 'scalars', seq: 2 ** 40, rows: Array.from({ length: MAX_ROWS_PER_FRAME }, () => row) });
  assert.ok(frame.length < MAX_FRAME_BYTES, `${frame.length} bytes`);
  assert.ok(parseTrainerFrame(frame).ok);
});

test('steps and seqs beyond 2^53 − 1 are refused, never rounded into one another', () => {
  const big = parseTrainerFrame(JSON.stringify({ type: 'scalars', rows: [{ step: 1e308, values: { loss: 1 } }, { step: 2 ** 53, values: { loss: 1 } }, { step: 2 ** 53 - 1, values: { loss: 1 } }] }));
  assert.ok(big.ok);
  assert.deepEqual(big.badRows.map((r) => r.index), [0, 1]);
  assert.match(big.badRows[0].message, /rows\[0\]\.step: expected integer from 0 to 2\^53 − 1, got 1e\+308/);
  const seq = refused(JSON.stringify({ type: 'scalars', seq: 2 ** 53, rows: [{ step: 1, values: {} }] }));
  assert.equal(seq.code, 'invalid-frame');
  assert.match(seq.message, /^seq: expected integer from 0 to 2\^53 − 1 − 1000/);
});

test('JSON pointers read as paths', () => {
  assert.equal(formatPath('/rows/3/values/sa~1fc1~1sign_diversity', 'x'), 'rows[3].values.sa/fc1/sign_diversity');
  assert.equal(formatPath('', 'scalars'), 'scalars');
});

test('the committed JSON Schema is the one the definitions give', () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/wire-schema.ts', '--check'], { stdio: 'pipe' });
});
