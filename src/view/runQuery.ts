// Sorting and filtering the comparison table's rows, and the Runs tree's filter box: one reading of a
// filter for both (docs/compare.md "Filter"). Plain TypeScript, bundled into the webview as well.
//
//   resnet            name, id, status or a tag contains "resnet" (any case)
//   tag:baseline      has the tag "baseline"
//   lr<=0.001         a column compared: a config key (nested keys with '.') or one of the table's
//   status=running    own columns (name, status, tags, start, duration, steps, best, last, alerts);
//   optim.name!=sgd   `config.steps` is the config key when it shares a name with a column
//   -diverge          any term negated
//   "a<b run"         quoted: plain text, spaces and signs included
import type { CompareRow, ConfigCell } from './compareRows';

/** The table's own columns, in the order shown; config columns are `config.<key>`. */
export const BASE_COLUMNS = ['name', 'status', 'tags', 'start', 'duration', 'steps', 'best', 'last', 'alerts'] as const;
export type BaseColumn = (typeof BASE_COLUMNS)[number];

export interface SortSpec {
  /** A base column or `config.<key>`. */
  column: string;
  descending: boolean;
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

type Term =
  | { kind: 'text'; text: string; negate: boolean }
  | { kind: 'tag'; tag: string; negate: boolean }
  | { kind: 'compare'; column: string; op: Op; value: string; negate: boolean };

export interface RunFilter {
  terms: Term[];
  /** The text it was read from, trimmed. */
  source: string;
}

/** A cell's value for sorting and comparing: numbers as numbers (NaN included), the rest as text. */
export function cellValue(row: CompareRow<number>, column: string): ConfigCell {
  switch (column) {
    case 'name':
      return row.name;
    case 'status':
      return row.status;
    case 'tags':
      return row.tags.join(', ');
    case 'start':
      return row.createdAt;
    case 'duration':
      return row.duration;
    case 'steps':
      return row.steps;
    case 'best':
      return row.bestLoss;
    case 'last':
      return row.lastLoss;
    case 'alerts':
      return row.alerts;
    default:
      if (column.startsWith('config.')) {
        const key = column.slice('config.'.length);
        return Object.hasOwn(row.config, key) ? row.config[key] : null;
      }
      return null;
  }
}

/**
 * Rows ordered by one column, ties kept in their order (stable). Empty cells go last whichever the
 * direction, and so does a NaN loss, with ±Infinity where they belong: a run that blew up sorts as
 * the worst, not as an unknown.
 */
export function sortRows<R extends CompareRow<number>>(rows: readonly R[], spec: SortSpec): R[] {
  const sign = spec.descending ? -1 : 1;
  return rows
    .map((row, index) => ({ row, index, value: cellValue(row, spec.column) }))
    .sort((a, b) => {
      const ea = isEmpty(a.value);
      const eb = isEmpty(b.value);
      if (ea || eb) return ea === eb ? a.index - b.index : ea ? 1 : -1;
      const c = compareCells(a.value, b.value);
      return c !== 0 ? sign * c : a.index - b.index;
    })
    .map((e) => e.row);
}

const isEmpty = (v: ConfigCell) => v === null || v === '' || (typeof v === 'number' && Number.isNaN(v));

function compareCells(a: ConfigCell, b: ConfigCell): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // Numbers before text in one column of mixed types (a config key that is 3 in one run and "auto" in another).
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

const COMPARE = /^([^<>=!]+?)(<=|>=|!=|=|<|>)(.*)$/;

/** Reads a filter; an error says what is wrong with which term (shown in the input box). */
export function parseFilter(text: string): RunFilter | { error: string } {
  const terms: Term[] = [];
  for (const { raw, quoted } of tokens(text)) {
    if (quoted) {
      terms.push({ kind: 'text', text: raw.toLowerCase(), negate: false });
      continue;
    }
    const negate = raw.startsWith('-') && raw.length > 1;
    const body = negate ? raw.slice(1) : raw;
    if (/^tag:/i.test(body)) {
      const tag = body.slice(4).trim();
      if (!tag) return { error: `"${raw}": name the tag after tag:` };
      terms.push({ kind: 'tag', tag: tag.toLowerCase(), negate });
      continue;
    }
    const m = COMPARE.exec(body);
    if (m) {
      const [, column, op, value] = m;
      if (value.trim() === '') return { error: `"${raw}": a value is missing after ${op}` };
      if ((op === '<' || op === '>' || op === '<=' || op === '>=') && !Number.isFinite(Number(value))) {
        return { error: `"${raw}": ${op} compares numbers, and "${value}" is not one` };
      }
      terms.push({ kind: 'compare', column: column.trim(), op: op as Op, value: value.trim(), negate });
      continue;
    }
    if (/[<>=]|!=/.test(body)) return { error: `"${raw}": write a comparison as key=value, key!=value, key<number or key>=number (or "quote" the text)` };
    terms.push({ kind: 'text', text: body.toLowerCase(), negate });
  }
  return { terms, source: text.trim() };
}

/** Whitespace-separated terms; "double quotes" keep spaces (and <, =, -) in one plain text term. */
function tokens(text: string): { raw: string; quoted: boolean }[] {
  const out: { raw: string; quoted: boolean }[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) {
      if (m[1]) out.push({ raw: m[1], quoted: true });
    } else if (m[2]) out.push({ raw: m[2], quoted: false });
  }
  return out;
}

/** True when every term holds for the row. */
export function matchesFilter(row: CompareRow<number>, filter: RunFilter): boolean {
  return filter.terms.every((term) => termHolds(row, term) !== term.negate);
}

export function filterRows<R extends CompareRow<number>>(rows: readonly R[], filter: RunFilter): R[] {
  return filter.terms.length === 0 ? [...rows] : rows.filter((r) => matchesFilter(r, filter));
}

function termHolds(row: CompareRow<number>, term: Term): boolean {
  switch (term.kind) {
    case 'text':
      return [row.name, row.id, row.status, ...row.tags].some((s) => s.toLowerCase().includes(term.text));
    case 'tag':
      return row.tags.some((t) => t.toLowerCase() === term.tag);
    case 'compare': {
      const cell = cellValue(row, resolveColumn(row, term.column));
      return compareTerm(cell, term.op, term.value);
    }
  }
}

/** A name in a filter: one of the table's columns, else a config key (`config.` may be written out). */
function resolveColumn(row: CompareRow<number>, name: string): string {
  const lower = name.toLowerCase();
  if ((BASE_COLUMNS as readonly string[]).includes(lower)) return lower;
  if (name.startsWith('config.') && !Object.hasOwn(row.config, name)) return name;
  return `config.${name}`;
}

function compareTerm(cell: ConfigCell, op: Op, value: string): boolean {
  if (cell === null) return op === '!=';
  const wanted = Number(value);
  const numeric = typeof cell === 'number' && value.trim() !== '' && Number.isFinite(wanted);
  if (op === '=' || op === '!=') {
    const equal = numeric ? cell === wanted : String(cell).toLowerCase() === value.toLowerCase();
    return equal === (op === '=');
  }
  if (typeof cell !== 'number' || Number.isNaN(cell)) return false;
  switch (op) {
    case '<':
      return cell < wanted;
    case '<=':
      return cell <= wanted;
    case '>':
      return cell > wanted;
    case '>=':
      return cell >= wanted;
  }
}
