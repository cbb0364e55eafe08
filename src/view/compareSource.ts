// What the comparison table shows (docs/compare.md): every run of the store, from its meta.json.
// A live run's summary is the one its Run keeps current; a run whose meta.json has none (written
// before the summary existed, or by the SDK with no hub) is summarised from its logs once, read as
// a stream, and kept until its files change. No run's series is loaded for the table.
import * as path from 'node:path';
import type { RoleOverrides } from '../metrics/roles';
import { fileVersion } from '../store/fileVersion';
import { countOpenedAlerts, statsFromLogs, type RunStats } from '../store/runStats';
import type { RunStore, RunSummary } from '../store/runStore';
import { buildCompareTable, type CompareTable } from './compareRows';

export class CompareSource {
  /** Summaries read from logs, by run id, with the size and time of the files they were read from. */
  private readonly fromLogs = new Map<string, { key: string; stats: RunStats }>();

  constructor(private readonly store: RunStore) {}

  async table(overrides: RoleOverrides = {}): Promise<CompareTable<number>> {
    const runs = await this.store.list();
    const known = new Set(runs.map((r) => r.id));
    for (const id of this.fromLogs.keys()) if (!known.has(id)) this.fromLogs.delete(id);
    const inputs = [];
    // One run after the other: summarising old runs reads their files, and the host has other work.
    for (const run of runs) inputs.push({ meta: run.meta, stats: await this.statsOf(run) });
    return buildCompareTable(inputs, { overrides });
  }

  private async statsOf(run: RunSummary): Promise<RunStats | null> {
    const stored = run.meta.stats ?? null;
    if (stored && stored.alerts !== null) return stored;
    const key = await filesKey(run.dir);
    const cached = this.fromLogs.get(run.id);
    if (cached && cached.key === key) return cached.stats;
    let stats: RunStats;
    try {
      stats = stored ? { ...stored, alerts: await countOpenedAlerts(run.dir) } : await statsFromLogs(run.dir);
    } catch {
      // Unreadable logs (permissions, a folder removed meanwhile): the row shows what meta.json says.
      return stored;
    }
    this.fromLogs.set(run.id, { key, stats });
    return stats;
  }
}

async function filesKey(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const file of ['metrics.jsonl', 'alerts.jsonl']) parts.push((await fileVersion(path.join(dir, file))) ?? '-');
  return parts.join('|');
}
