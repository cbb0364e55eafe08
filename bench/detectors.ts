// Detector cost per row: a long synthetic run through the Watchdog, timed in its first and its last
// tenth. Equal rates mean the cost per row does not grow with the run (amortised O(1)).
import { Watchdog } from '../src/detect/watchdog';
import { syntheticRun } from '../test/helpers/syntheticRun';

export function benchDetectors(rows = 200_000): { rowsPerSecond: number; lateOverEarly: number } {
  const run = syntheticRun({ steps: rows, layers: 24 });
  const watchdog = new Watchdog();
  const tenth = Math.floor(rows / 10);
  const time = (from: number, to: number) => {
    const t0 = performance.now();
    for (let i = from; i < to; i++) watchdog.ingest(run[i]);
    return (performance.now() - t0) / 1000;
  };
  const early = time(0, tenth);
  time(tenth, rows - tenth);
  const late = time(rows - tenth, rows);
  return { rowsPerSecond: tenth / late, lateOverEarly: late / early };
}
