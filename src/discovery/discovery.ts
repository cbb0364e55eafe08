// The discovery directory (docs/protocol.md): one file per live hub, so a notebook kernel or an
// external terminal finds the hub of the window whose workspace holds its working directory.
// Outside the workspace and readable by its user alone: the token must not leak into a repository.
import { promises as fsp, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isProcessAlive } from '../store/meta';

export interface DiscoveryEntry {
  url: string;
  token: string;
  pid: number;
  folders: string[];
  startedAt: number;
}

export function defaultDiscoveryDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOSSRADAR_DISCOVERY_DIR || path.join(os.homedir(), '.lossradar', 'hubs');
}

/**
 * Writes this hub's entry, first removing the entries of hubs whose process is gone (a hub killed
 * with SIGKILL cannot remove its own, and its token must not lie about). The returned function
 * removes the entry; so does this process's exit, however it exits short of SIGKILL.
 */
export async function publishHub(dir: string, entry: DiscoveryEntry): Promise<() => Promise<void>> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await fsp.chmod(dir, 0o700);
  await pruneDeadHubs(dir);
  const port = new URL(entry.url).port;
  const file = path.join(dir, `${entry.pid}-${port}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(entry) + '\n', { mode: 0o600 });
  await fsp.rename(tmp, file);
  const onExit = () => rmSync(file, { force: true });
  process.once('exit', onExit);
  return async () => {
    process.off('exit', onExit);
    await fsp.rm(file, { force: true });
  };
}

/** The folder's file names; none when it does not exist (yet). */
async function namesIn(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch {
    return [];
  }
}

/** An entry's content; undefined for a half-written or foreign file, which is not a hub. */
async function readEntry(file: string): Promise<Partial<DiscoveryEntry> | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<DiscoveryEntry>;
  } catch {
    return undefined;
  }
}

/** Removes entries whose hub process is gone, and torn temporary files older than a minute. */
export async function pruneDeadHubs(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await namesIn(dir)) {
    const file = path.join(dir, name);
    let dead: boolean;
    if (name.endsWith('.tmp')) {
      const stat = await fsp.stat(file).catch(() => undefined);
      dead = stat !== undefined && Date.now() - stat.mtimeMs > 60_000;
    } else if (name.endsWith('.json')) {
      const entry = await readEntry(file);
      if (entry) dead = typeof entry.pid !== 'number' || !isProcessAlive(entry.pid);
      else {
        // Half-written by a hub that is writing it now, or foreign: only the file name's pid can say.
        const pid = Number(name.split('-', 1)[0]);
        dead = Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid);
      }
    } else continue;
    if (dead) {
      await fsp.rm(file, { force: true }).catch(() => undefined);
      removed.push(name);
    }
  }
  return removed;
}

/** Live entries only: an entry whose process is gone belongs to a closed window. */
export async function readHubs(dir: string): Promise<DiscoveryEntry[]> {
  const out: DiscoveryEntry[] = [];
  for (const name of await namesIn(dir)) {
    if (!name.endsWith('.json')) continue;
    const entry = await readEntry(path.join(dir, name));
    if (entry && typeof entry.pid === 'number' && isProcessAlive(entry.pid)) out.push(entry as DiscoveryEntry);
  }
  return out;
}

/** The live hub whose folder contains `cwd`, the deepest folder winning. */
export function pickHub(entries: DiscoveryEntry[], cwd: string): DiscoveryEntry | undefined {
  let best: DiscoveryEntry | undefined;
  let bestDepth = -1;
  const here = path.resolve(cwd);
  for (const entry of entries) {
    for (const folder of entry.folders) {
      const f = path.resolve(folder);
      if ((here === f || here.startsWith(f + path.sep)) && f.length > bestDepth) {
        best = entry;
        bestDepth = f.length;
      }
    }
  }
  return best;
}
