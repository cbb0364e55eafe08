// What `lossradar export` reads a run through (src/store/runTables.ts, docs/store.md "Export"): a run
// written before the columns (its log alone) comes out a segment's worth at a time, every row once
// and in order, so a log of any length is never held whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SEGMENT_ROWS } from '../../src/store/columns';
import { runTables } from '../../src/store/runTables';
import { writeLargeRun } from '../helpers/largeRun';
import { tempDir } from '../helpers/tmp';

test('a run without columns is exported a table per segment of its log, every row once, in order', async () => {
  const { dir, cleanup } = tempDir();
  const ROWS = 5 * SEGMENT_ROWS + 123;
  const { dir: runDir } = await writeLargeRun(dir, 'legacy', ROWS, 3, { columns: false, nanAt: 777 });
  const sizes: number[] = [];
  const steps: number[] = [];
  let nan = -1;
  for await (const table of runTables(runDir)) {
    sizes.push(table.numRows);
    const step = table.getChild('step')!;
    const loss = table.getChild('loss')!;
    for (let i = 0; i < table.numRows; i++) {
      steps.push(Number(step.get(i)));
      if (Number.isNaN(loss.get(i))) nan = Number(step.get(i));
    }
  }
  assert.ok(sizes.length >= 4, `${sizes.length} tables`);
  // A chunk of the log (256 KiB) holds well under a segment of these rows: no table is much more than one.
  for (const n of sizes) assert.ok(n < 2 * SEGMENT_ROWS, `a table of ${n} rows`);
  assert.deepEqual(steps, Array.from({ length: ROWS }, (_, i) => i));
  assert.equal(nan, 777);
  cleanup();
});
