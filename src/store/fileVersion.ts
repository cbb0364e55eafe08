// Which version of a file is on disk, without reading it: readers that keep what they parsed (the
// store's listing, the comparison table's summaries from logs) read again only when it changes.
import { promises as fsp } from 'node:fs';

/**
 * The file's inode, size and modification time, or null when it cannot be stat'ed. A rewrite by
 * rename (meta.json) is a new inode; an append (the logs) a new size and time.
 */
export async function fileVersion(file: string): Promise<string | null> {
  const stat = await fsp.stat(file).catch(() => null);
  return stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}` : null;
}
