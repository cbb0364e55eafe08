// A run's tags (docs/compare.md): set by the SDK (`lossradar.init(tags=[…])`, carried in the hello's
// `run.tags`) and from the editor (Runs tree, "Set Tags…"), kept in meta.json. One reading of them for
// every source, so a tag read from disk, from the wire and from a user's input obeys the same limits.
import { MAX_TAG_LENGTH, MAX_TAGS } from '../protocol/wire';

/** Control characters would break a tree item's label and the table's cells. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The tags of a record read from disk or the wire: strings only, trimmed, non-empty, at most
 * MAX_TAG_LENGTH characters, no duplicates, at most MAX_TAGS, in the order given. Anything else is
 * left out rather than refused: a hand-edited meta.json must not hide its run.
 */
export function normalizeTags(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  const out: string[] = [];
  for (const item of raw) {
    if (typeof item !== 'string') continue;
    const tag = item.trim();
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH || CONTROL.test(tag) || out.includes(tag)) continue;
    out.push(tag);
    if (out.length === MAX_TAGS) break;
  }
  return out;
}

/** A user's comma-separated tags (the "Set Tags…" input box): the tags, or why they cannot be taken. */
export function parseTagInput(text: string): { tags: string[] } | { error: string } {
  const parts = text.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const long = parts.find((t) => t.length > MAX_TAG_LENGTH);
  if (long !== undefined) return { error: `a tag has at most ${MAX_TAG_LENGTH} characters: "${long.slice(0, 20)}…" has ${long.length}` };
  if (parts.some((t) => CONTROL.test(t))) return { error: 'a tag cannot hold control characters' };
  const tags = normalizeTags(parts);
  if (new Set(parts).size > MAX_TAGS) return { error: `a run has at most ${MAX_TAGS} tags, not ${new Set(parts).size}` };
  return { tags };
}
