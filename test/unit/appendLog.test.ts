import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AppendLog, nodeSink, type FileSink } from '../../src/store/appendLog';
import { parseJsonLines } from '../../src/store/jsonLines';
import { tempDir, waitFor } from '../helpers/tmp';

test('lines are written together within the flush interval, not one by one', async () => {
  const { dir, cleanup } = tempDir();
  const writes: string[] = [];
  const sink: FileSink = {
    appendFile: async (p, data) => {
      await nodeSink.appendFile(p, data);
      writes.push(data);
    },
  };
  const log = new AppendLog(path.join(dir, 'a.jsonl'), { flushMs: 50, sink });
  for (let i = 0; i < 100; i++) log.append(JSON.stringify({ step: i }));
  assert.equal(writes.length, 0, 'nothing written synchronously');
  await waitFor(() => writes.length === 1 || undefined, 'one batched write', 2000);
  assert.equal(readFileSync(path.join(dir, 'a.jsonl'), 'utf8').split('\n').length, 101);
  log.dispose();
  cleanup();
});

test('a failing write keeps the lines, reports once, and a later write lands them in order', async () => {
  let failures = 2;
  let written = '';
  const errors: string[] = [];
  const sink: FileSink = {
    appendFile: async (_p, data) => {
      if (failures-- > 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      written += data;
    },
  };
  const log = new AppendLog('/nowhere', { flushMs: 10, retryMs: 10, sink, onError: (e) => errors.push(e.code ?? '') });
  log.append('{"step":1}', 1);
  await assert.rejects(log.flush(), /no space/);
  log.append('{"step":2}', 2);
  await assert.rejects(log.flush(), /no space/);
  assert.deepEqual(errors, ['ENOSPC'], 'one report per failure episode');
  assert.equal(log.pendingLines, 2);
  let mark = -1;
  const log2 = log as unknown as { options: { onFlushed?: (n: number, m: number) => void } };
  log2.options.onFlushed = (_n, m) => (mark = m);
  await log.flush();
  assert.equal(mark, 2, 'the highest mark written is reported');
  // The retry starts on a fresh line in case the failed write left a torn one.
  assert.deepEqual(parseJsonLines(written).items, [{ step: 1 }, { step: 2 }]);
  log.dispose();
});

test('a torn last line is skipped with a warning, other lines are kept', () => {
  const parsed = parseJsonLines<{ step: number }>('{"step":1}\n{"step":2}\n{"step":3,"lo');
  assert.deepEqual(parsed.items.map((r) => r.step), [1, 2]);
  assert.equal(parsed.endsClean, false);
  assert.equal(parsed.problems.length, 1);
  assert.match(parsed.problems[0].message, /torn last line/);
  assert.equal(parsed.problems[0].line, 3);
});

test('a bad line in the middle is reported with its number', () => {
  const parsed = parseJsonLines('{"step":1}\nnot json\n{"step":2}\n');
  assert.equal(parsed.items.length, 2);
  assert.equal(parsed.problems[0].line, 2);
  assert.match(parsed.problems[0].message, /invalid JSON/);
});
