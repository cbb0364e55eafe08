// The discovery directory (docs/protocol.md): one file per live hub, so a notebook kernel or an
// external terminal finds the hub of the window whose workspace holds its working directory.
// Outside the workspace and readable by its user alone: the token must not leak into a repository.
import { promises as fsp } from 'node:fs';
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

/** Writes this hub's entry; the returned function removes it. */
export async function publishHub(dir: string, entry: DiscoveryEntry): Promise<() => Promise<void>> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await fsp.chmod(dir, 0o700);
  const port = new URL(entry.url).port;
  const file = path.join(dir, `${entry.pid}-${port}.json`);
  const tmp = `${file}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(entry) + '\n', { mode: 0o600 });
  await fsp.rename(tmp, file);
  return async () => {
    await fsp.rm(file, { force: true });
  };
}

/** Live entries only: an entry whose process is gone belongs to a closed window. */
export async function readHubs(dir: string): Promise<DiscoveryEntry[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const out: DiscoveryEntry[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const entry = JSON.parse(await fsp.readFile(path.join(dir, name), 'utf8')) as DiscoveryEntry;
      if (typeof entry.pid === 'number' && isProcessAlive(entry.pid)) out.push(entry);
    } catch {
      // A half-written or foreign file is not a hub.
    }
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
