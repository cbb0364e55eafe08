// The runs folder (design.md §6): lists runs from disk, creates and resumes them, keeps the live ones
// in memory. Plain Node, no `vscode`, shared by the extension and `lossradar serve`.
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { RUN_ID_PATTERN } from '../protocol/wire';
import type { FileSink } from './appendLog';
import { fileVersion } from './fileVersion';
import type { LineProblem } from './jsonLines';
import { META_FILE, loadMeta, newMeta, trainerGone, type RunMeta, type RunStatus } from './meta';
import { Run, type RunOptions } from './run';
import { normalizeTags } from './tags';

const runIdRe = new RegExp(RUN_ID_PATTERN);

export interface RunSummary {
  id: string;
  name: string;
  status: RunStatus;
  createdAt: number;
  endedAt: number | null;
  dir: string;
  /** The meta.json it was listed from (tags, config, stats: the Runs tree and the comparison table); shared between listings, read only. */
  readonly meta: Readonly<RunMeta>;
}

export interface RunStoreEvents {
  created: [run: Run];
  /** A run's status changed (its Run is the one writer): the one event every view follows. */
  status: [run: Run];
  changed: [];
  problem: [message: string];
}

export interface NewRunInfo {
  id?: string | null;
  name?: string | null;
  config?: Record<string, unknown> | null;
  host?: string | null;
  pid?: number | null;
  device?: string | null;
  sdk?: string | null;
  /** From the hello's run.tags; a resumed run keeps its own (the editor may have changed them). */
  tags?: readonly string[] | null;
}

export class RunStore extends EventEmitter<RunStoreEvents> {
  private readonly loaded = new Map<string, Run>();
  private readonly loading = new Map<string, Promise<Run | undefined>>();
  /** Opens of one id run one after the other: two hellos creating one new run must not both create it. */
  private readonly opening = new Map<string, Promise<unknown>>();
  /** Who shows each run now (a view, an overlay): a run neither live nor held is let go. */
  private readonly holds = new Map<string, number>();
  private readonly letGo = new Map<string, NodeJS.Timeout>();
  private readonly idleMs: number;
  /**
   * The listing's meta.json reads, by run id, keyed by the file's inode, size and mtime: the
   * comparison table lists the folder once a second while a run logs, and parsing every run's
   * summary each time took ~1 ms a run (bench/listing.ts). Every write of meta.json is a rename
   * (MetaWriter), so a new record is a new inode; recovered records are never kept.
   */
  private readonly listed = new Map<string, { key: string; meta: RunMeta }>();

  constructor(
    readonly dir: string,
    private readonly options: RunOptions & { sink?: FileSink; idleMs?: number } = {},
  ) {
    super();
    this.idleMs = options.idleMs ?? 10_000;
  }

  /**
   * Says a view shows run `id` until the returned handle is disposed. A run loaded from disk that
   * is neither held nor live (no trainer, not running) is let go `idleMs` later: the hub holds
   * nothing for it (docs/store.md "Memory").
   */
  hold(id: string): { dispose(): void } {
    this.holds.set(id, (this.holds.get(id) ?? 0) + 1);
    this.cancelLetGo(id);
    let held = true;
    return {
      dispose: () => {
        if (!held) return;
        held = false;
        const n = (this.holds.get(id) ?? 1) - 1;
        if (n > 0) this.holds.set(id, n);
        else {
          this.holds.delete(id);
          this.considerLetGo(id);
        }
      },
    };
  }

  /** Runs held in memory now (live, shown, or not let go yet). */
  get loadedIds(): string[] {
    return [...this.loaded.keys()];
  }

  private considerLetGo(id: string): void {
    const run = this.loaded.get(id);
    if (!run || run.connected || run.status === 'running' || (this.holds.get(id) ?? 0) > 0 || this.letGo.has(id)) return;
    const timer = setTimeout(() => {
      this.letGo.delete(id);
      if (run.connected || run.status === 'running' || (this.holds.get(id) ?? 0) > 0 || this.loaded.get(id) !== run) return;
      this.loaded.delete(id);
      // What is queued still lands; the run is loaded again from disk when next asked for.
      void run.flush().catch(() => undefined).finally(() => run.dispose());
    }, this.idleMs);
    timer.unref();
    this.letGo.set(id, timer);
  }

  private cancelLetGo(id: string): void {
    const timer = this.letGo.get(id);
    if (timer) clearTimeout(timer);
    this.letGo.delete(id);
  }

  static isValidRunId(id: string): boolean {
    return runIdRe.test(id) && id !== '.' && id !== '..';
  }

  newRunId(name: string | null | undefined): string {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const slug = (name ?? 'run').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'run';
    return `${stamp}-${slug}-${crypto.randomBytes(3).toString('hex')}`;
  }

  /** Every run in the folder, newest first; folders without a readable meta.json are left out. */
  async list(): Promise<RunSummary[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: RunSummary[] = [];
    const present = new Set(entries);
    for (const id of this.listed.keys()) if (!present.has(id)) this.listed.delete(id);
    for (const id of entries) {
      if (!RunStore.isValidRunId(id)) continue;
      let live = this.loaded.get(id);
      let meta: RunMeta | undefined = live?.meta;
      if (!meta) {
        meta = await this.listedMeta(id);
        if (!meta) continue;
        // Said running, but its process is gone: loading it records it as interrupted (Run.load).
        if (meta.status === 'running' && trainerGone(meta)) {
          live = await this.get(id).catch(() => undefined);
          meta = live?.meta ?? meta;
        }
      }
      out.push({
        id,
        name: meta.name,
        status: meta.status,
        createdAt: meta.createdAt,
        endedAt: meta.endedAt,
        dir: path.join(this.dir, id),
        meta,
      });
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }

  /** A run's meta.json for the listing: the one read before while the file is the same. */
  private async listedMeta(id: string): Promise<RunMeta | undefined> {
    const dir = path.join(this.dir, id);
    const key = await fileVersion(path.join(dir, META_FILE));
    const cached = this.listed.get(id);
    if (key !== null && cached?.key === key) return cached.meta;
    this.listed.delete(id);
    // A damaged meta.json is recovered for the listing too (and written back when the run opens).
    let loaded;
    try {
      loaded = await loadMeta(dir);
    } catch {
      return undefined;
    }
    if (loaded && loaded.recovered === null && key !== null) this.listed.set(id, { key, meta: loaded.meta });
    return loaded?.meta;
  }

  /** The run in memory, loading it from disk if it exists there. */
  async get(id: string): Promise<Run | undefined> {
    if (!RunStore.isValidRunId(id)) return undefined;
    const live = this.loaded.get(id);
    if (live) {
      this.cancelLetGo(id);
      this.considerLetGo(id);
      return live;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.loadFromDisk(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Creates a run, or resumes the one with `info.id` when it exists. */
  async open(info: NewRunInfo): Promise<{ run: Run; resumed: boolean }> {
    const id = info.id;
    if (!id) return this.create(info, this.newRunId(info.name));
    if (!RunStore.isValidRunId(id)) throw new Error(`bad run id ${JSON.stringify(id)}`);
    const previous = this.opening.get(id) ?? Promise.resolve();
    const op = previous.catch(() => undefined).then(() => this.openExisting(info, id));
    this.opening.set(id, op);
    try {
      return await op;
    } finally {
      if (this.opening.get(id) === op) this.opening.delete(id);
    }
  }

  private async openExisting(info: NewRunInfo, id: string): Promise<{ run: Run; resumed: boolean }> {
    {
      const existing = await this.get(id);
      if (existing) {
        existing.resume({ pid: info.pid ?? existing.meta.pid, host: info.host ?? existing.meta.host, device: info.device ?? existing.meta.device }).catch(() => undefined);
        this.emit('changed');
        return { run: existing, resumed: true };
      }
    }
    return this.create(info, id);
  }

  private async create(info: NewRunInfo, id: string): Promise<{ run: Run; resumed: boolean }> {
    const now = Date.now() / 1000;
    const meta = newMeta(id, now, {
      name: info.name ?? id,
      config: info.config ?? null,
      host: info.host ?? null,
      pid: info.pid ?? null,
      device: info.device ?? null,
      sdk: info.sdk ?? null,
      tags: normalizeTags(info.tags),
    });
    const run = await Run.create(path.join(this.dir, id), meta, this.options);
    this.adopt(run);
    this.emit('created', run);
    this.emit('changed');
    return { run, resumed: false };
  }

  /** Replaces a run's tags (the editor's Set Tags…, docs/compare.md); every view hears `changed`. */
  async setTags(id: string, tags: readonly string[]): Promise<void> {
    const run = await this.get(id);
    if (!run) throw new Error(`no run ${id} in ${this.dir}`);
    await run.updateMeta({ tags: normalizeTags(tags) });
    this.emit('changed');
  }

  async delete(id: string): Promise<void> {
    if (!RunStore.isValidRunId(id)) throw new Error(`bad run id ${JSON.stringify(id)}`);
    const run = this.loaded.get(id);
    if (run?.connected) throw new Error(`run ${id} is live; stop it first`);
    run?.dispose();
    this.loaded.delete(id);
    await fsp.rm(path.join(this.dir, id), { recursive: true, force: true });
    this.emit('changed');
  }

  async flushAll(): Promise<void> {
    await Promise.allSettled([...this.loaded.values()].map((run) => run.flush()));
  }

  async dispose(): Promise<void> {
    for (const timer of this.letGo.values()) clearTimeout(timer);
    this.letGo.clear();
    await this.flushAll();
    for (const run of this.loaded.values()) run.dispose();
    this.loaded.clear();
  }

  private async loadFromDisk(id: string): Promise<Run | undefined> {
    const dir = path.join(this.dir, id);
    const run = await Run.load(dir, this.options, (file: string, p: LineProblem) =>
      this.emit('problem', p.line > 0 ? `${file}:${p.line}: ${p.message}` : `${file}: ${p.message}`),
    );
    if (!run) return undefined;
    this.adopt(run);
    return run;
  }

  private adopt(run: Run): void {
    this.loaded.set(run.id, run);
    run.on('status', () => {
      this.emit('status', run);
      this.emit('changed');
      this.considerLetGo(run.id);
    });
    run.on('connection', (connected) => (connected ? this.cancelLetGo(run.id) : this.considerLetGo(run.id)));
    this.considerLetGo(run.id);
  }
}
