// meta.json of a run: who ran it, with what, and how it ended.
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted';

export interface RunMeta {
  id: string;
  name: string;
  config: Record<string, unknown> | null;
  status: RunStatus;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
  error: string | null;
  host: string | null;
  pid: number | null;
  device: string | null;
  sdk: string | null;
  /** Rows the client reported dropping because its queue was full. */
  droppedRows: number;
  /** Exit code or signal of a launched process, when the launcher knows it. */
  exit?: { code: number | null; signal: string | null } | null;
}

/** Written to a temporary file and renamed, so a crash leaves the old meta.json or the new one. */
export async function writeMetaAtomic(path: string, meta: RunMeta): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(meta, null, 2) + '\n', 'utf8');
  await fsp.rename(tmp, path);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A run recorded as running whose trainer process is gone on this host was interrupted: nothing
 * will finish it. A run from another host cannot be checked and keeps its recorded status.
 */
export function effectiveStatus(meta: RunMeta, connected: boolean): RunStatus {
  if (meta.status !== 'running' || connected) return meta.status;
  if (meta.host !== null && meta.host !== os.hostname()) return meta.status;
  if (meta.pid === null || !isProcessAlive(meta.pid)) return 'interrupted';
  return 'running';
}
