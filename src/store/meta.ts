// meta.json of a run: who ran it, with what, and how it ended (docs/protocol.md "Runs on disk").
import { promises as fsp } from 'node:fs';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizeStats, type RunStats } from './runStats';
import { normalizeTags } from './tags';

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted';
const STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'stopped', 'interrupted'];

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
  /** When Stop Run was asked (Unix seconds): the run then ends as stopped, whatever the script says. */
  stopRequestedAt?: number | null;
  /** Labels set by the SDK (`init(tags=…)`) or the editor (Set Tags…); docs/compare.md. */
  tags?: string[];
  /** Rows, last step, each metric's last and lowest value, alerts: what the comparison table reads (src/store/runStats.ts). */
  stats?: RunStats | null;
}

export const META_FILE = 'meta.json';

/**
 * The one writer of a run's meta.json. Writes are serialised (two overlapping renames of one
 * temporary file was how a burst of updates once tore the file or failed with ENOENT), each goes
 * through a temporary file of its own and a rename, so a crash or a full disk leaves the old
 * meta.json or the new one, and saves queued behind a write in flight coalesce into one.
 * A failed write is retried with the newest content until one succeeds or the file is disposed.
 */
export class MetaFile {
  private chain: Promise<void> = Promise.resolve();
  private queued: { text: string; done: Promise<void> } | undefined;
  private retry: NodeJS.Timeout | undefined;
  private latest: RunMeta | undefined;
  private disposed = false;
  private failing = false;

  constructor(
    readonly file: string,
    private readonly options: { retryMs?: number; onError?: (err: NodeJS.ErrnoException) => void } = {},
  ) {}

  /** Resolves once `meta` (or a newer save) is on disk; rejects if that write failed (it is retried). */
  save(meta: RunMeta): Promise<void> {
    const text = JSON.stringify(meta, null, 2) + '\n';
    this.latest = meta;
    if (this.queued) {
      this.queued.text = text;
      return this.queued.done;
    }
    const slot = { text, done: Promise.resolve() };
    slot.done = this.chain.then(() => {
      this.queued = undefined;
      return this.write(slot.text);
    });
    this.queued = slot;
    this.chain = slot.done.catch(() => undefined);
    return slot.done;
  }

  /** Resolves once every save made so far has been tried (whatever came of it). */
  settled(): Promise<void> {
    return this.chain;
  }

  dispose(): void {
    this.disposed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }

  private async write(text: string): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    try {
      await fsp.writeFile(tmp, text, 'utf8');
      await fsp.rename(tmp, this.file);
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      // Reported once per failure episode, like the logs' writes: the retries stay quiet.
      if (!this.failing) this.options.onError?.(err as NodeJS.ErrnoException);
      this.failing = true;
      this.scheduleRetry();
      throw err;
    }
    this.failing = false;
  }

  private scheduleRetry(): void {
    if (this.retry || this.disposed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.disposed || !this.latest) return;
      this.save(this.latest).catch(() => undefined);
    }, this.options.retryMs ?? 1000);
    this.retry.unref?.();
  }
}

export interface LoadedMeta {
  meta: RunMeta;
  /** Why meta.json could not be used as it was, when it was recovered; null when it was sound. */
  recovered: string | null;
}

/**
 * Reads a run's meta.json. A missing or damaged one is recovered, never fatal: from a leftover
 * temporary copy that parses, else rebuilt from the run's logs. Undefined when the folder holds
 * no run at all (no meta.json and no metrics.jsonl).
 */
export async function loadMeta(dir: string): Promise<LoadedMeta | undefined> {
  const id = path.basename(dir);
  const file = path.join(dir, META_FILE);
  let problem: string;
  try {
    const meta = normalizeMeta(JSON.parse(await fsp.readFile(file, 'utf8')), id);
    if (meta) return { meta, recovered: null };
    problem = 'meta.json is not a run record';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problem = code === 'ENOENT' ? 'meta.json is missing' : code ? `meta.json cannot be read (${code})` : `meta.json is damaged (${(err as Error).message})`;
  }
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return undefined;
  }
  let best: RunMeta | undefined;
  for (const name of names) {
    if (!name.startsWith(`${META_FILE}.`) || !name.endsWith('.tmp')) continue;
    try {
      const meta = normalizeMeta(JSON.parse(await fsp.readFile(path.join(dir, name), 'utf8')), id);
      if (meta && (!best || meta.updatedAt > best.updatedAt)) best = meta;
    } catch {
      // A torn temporary copy: try the next one.
    }
  }
  if (best) return { meta: best, recovered: `${problem}; recovered from a temporary copy` };
  const rebuilt = await rebuildFromLogs(dir, id);
  if (!rebuilt) return undefined;
  return { meta: rebuilt, recovered: `${problem}; rebuilt from the run's logs` };
}

/** A meta record with every field present and typed, or undefined when `raw` is not one. */
export function normalizeMeta(raw: unknown, id: string): RunMeta | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const m = raw as Record<string, unknown>;
  if (typeof m.createdAt !== 'number' || typeof m.status !== 'string' || !STATUSES.includes(m.status as RunStatus)) return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const config = m.config;
  return {
    ...(m as object),
    id,
    name: str(m.name) ?? id,
    config: typeof config === 'object' && config !== null && !Array.isArray(config) ? (config as Record<string, unknown>) : null,
    status: m.status as RunStatus,
    createdAt: m.createdAt,
    updatedAt: num(m.updatedAt) ?? m.createdAt,
    endedAt: num(m.endedAt),
    error: str(m.error),
    host: str(m.host),
    pid: num(m.pid),
    device: str(m.device),
    sdk: str(m.sdk),
    droppedRows: num(m.droppedRows) ?? 0,
    stopRequestedAt: num(m.stopRequestedAt),
    tags: normalizeTags(m.tags),
    stats: normalizeStats(m.stats),
  };
}

async function rebuildFromLogs(dir: string, id: string): Promise<RunMeta | undefined> {
  const metrics = path.join(dir, 'metrics.jsonl');
  let stat;
  try {
    stat = await fsp.stat(metrics);
  } catch {
    return undefined;
  }
  // The first row's wall time is when the run began; only the head of the file is read.
  let createdAt = stat.birthtimeMs > 0 ? stat.birthtimeMs / 1000 : stat.mtimeMs / 1000;
  try {
    const handle = await fsp.open(metrics, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
      const first = buffer.subarray(0, bytesRead).toString('utf8').split('\n', 1)[0];
      const time = (JSON.parse(first) as { time?: unknown }).time;
      if (typeof time === 'number' && Number.isFinite(time)) createdAt = time;
    } finally {
      await handle.close();
    }
  } catch {
    // An unreadable first row: the file's own time stands.
  }
  // Nothing says how it ended; a trainer that is still connected sets it running again.
  return newMeta(id, createdAt, { status: 'interrupted', updatedAt: stat.mtimeMs / 1000 });
}

/** A run that starts now, as its meta.json first says; `patch` overrides any field. */
export function newMeta(id: string, now: number, patch: Partial<RunMeta> = {}): RunMeta {
  return {
    id,
    name: id,
    config: null,
    status: 'running',
    createdAt: now,
    updatedAt: now,
    endedAt: null,
    error: null,
    host: null,
    pid: null,
    device: null,
    sdk: null,
    droppedRows: 0,
    tags: [],
    stats: null,
    ...patch,
  };
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

/** A run's trainer recorded on this host whose process is gone: nothing will finish that run. */
export function trainerGone(meta: RunMeta): boolean {
  if (meta.host !== null && meta.host !== os.hostname()) return false;
  return meta.pid === null || !isProcessAlive(meta.pid);
}
