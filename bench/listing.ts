// The comparison table of a runs folder that has grown (docs/compare.md): built once a second
// while a run logs (CompareBridge), from every run's meta.json and its summary. The first table
// reads every file; the next ones read only what changed (RunStore's listing, keyed by the file).
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { newMeta } from '../src/store/meta';
import { emptyStats, observeRow } from '../src/store/runStats';
import { RunStore } from '../src/store/runStore';
import { CompareSource } from '../src/view/compareSource';
import { tempDir } from '../test/helpers/tmp';

export interface ListingResult {
  runs: number;
  metrics: number;
  firstMs: number;
  /** The median of the tables after the first, one run's meta.json rewritten before each. */
  againMs: number;
}

export async function benchListing(runs = 500, metrics = 200, tables = 9): Promise<ListingResult> {
  const { dir, cleanup } = tempDir('lossradar-bench-listing-');
  try {
    const ids: string[] = [];
    const write = (i: number, name: string) => {
      const id = ids[i];
      const stats = emptyStats();
      const values: Record<string, number> = { loss: 1 / (i + 1) };
      for (let m = 0; m < metrics; m++) values[`sa/layer${m}/sigma`] = m / metrics;
      observeRow(stats, 0, 1, values);
      writeFileSync(path.join(dir, id, 'meta.json'), JSON.stringify({ ...newMeta(id, 1000 + i, { status: 'completed', name }), config: { lr: 0.1, seed: i }, stats }));
    };
    for (let i = 0; i < runs; i++) {
      ids.push(`20261201-000000-run-${String(i).padStart(6, '0')}`);
      mkdirSync(path.join(dir, ids[i]));
      write(i, `run ${i}`);
    }
    const source = new CompareSource(new RunStore(dir));
    const timed = async () => {
      const t0 = performance.now();
      const table = await source.table();
      if (table.rows.length !== runs) throw new Error(`${table.rows.length} rows of ${runs}`);
      return performance.now() - t0;
    };
    const firstMs = await timed();
    const again: number[] = [];
    for (let k = 0; k < tables; k++) {
      write(k, `retagged ${k}`);
      again.push(await timed());
    }
    again.sort((a, b) => a - b);
    return { runs, metrics, firstMs, againMs: again[Math.floor(again.length / 2)] };
  } finally {
    cleanup();
  }
}

if (require.main === module) void benchListing().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
