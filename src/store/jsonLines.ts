// Reading a JSON-lines file written by AppendLog: a crash can leave a torn last line, and a failed
// write a torn line in the middle; both are skipped and reported, never fatal.
import { promises as fsp } from 'node:fs';

export interface LineProblem {
  line: number;
  message: string;
}

export interface JsonLines<T> {
  items: T[];
  problems: LineProblem[];
  /** False when the file does not end with a newline (its last line is torn). */
  endsClean: boolean;
}

export async function readJsonLines<T>(path: string, check?: (value: unknown) => string | null): Promise<JsonLines<T>> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], problems: [], endsClean: true };
    throw err;
  }
  return parseJsonLines<T>(text, check);
}

export function parseJsonLines<T>(text: string, check?: (value: unknown) => string | null): JsonLines<T> {
  const items: T[] = [];
  const problems: LineProblem[] = [];
  const endsClean = text.length === 0 || text.endsWith('\n');
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const torn = i === lines.length - 1 && !endsClean;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      problems.push({ line: i + 1, message: torn ? 'torn last line (the writer stopped mid-line); skipped' : `invalid JSON: ${(err as Error).message}; skipped` });
      continue;
    }
    const problem = check?.(value) ?? null;
    if (problem) {
      problems.push({ line: i + 1, message: `${problem}; skipped` });
      continue;
    }
    items.push(value as T);
  }
  return { items, problems, endsClean };
}
