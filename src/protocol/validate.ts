// The one boundary check for trainer frames: JSON text in, a typed frame or a precise error out.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Kind, type TSchema } from '@sinclair/typebox';
import { MAX_ROWS_PER_FRAME, ScalarRow, ScalarsEnvelope, TRAINER_FRAMES, type ErrorCode, type TrainerFrame, type TrainerFrameType } from './wire';

/** A refused row of a scalars frame: its index in the frame and why. */
export interface RowError {
  index: number;
  message: string;
}

export type Parsed =
  | { ok: true; frame: TrainerFrame; badRows: RowError[] }
  | { ok: false; code: ErrorCode; message: string };

const checkers = {} as Record<TrainerFrameType, TypeCheck<TSchema>>;
for (const type of Object.keys(TRAINER_FRAMES) as TrainerFrameType[]) {
  checkers[type] = TypeCompiler.Compile(TRAINER_FRAMES[type] as TSchema) as TypeCheck<TSchema>;
}
checkers.scalars = TypeCompiler.Compile(ScalarsEnvelope) as TypeCheck<TSchema>;
const rowChecker = TypeCompiler.Compile(ScalarRow);

export function parseTrainerFrame(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, code: 'invalid-json', message: `invalid JSON: ${(err as Error).message}` };
  }
  return validateTrainerFrame(value);
}

export function validateTrainerFrame(value: unknown): Parsed {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid-frame', message: `frame: expected object, got ${describeValue(value)}` };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return { ok: false, code: 'invalid-frame', message: `type: expected string, got ${describeValue(type)}` };
  }
  const checker = Object.hasOwn(checkers, type) ? checkers[type as TrainerFrameType] : undefined;
  if (!checker) {
    const known = Object.keys(checkers).join(', ');
    return { ok: false, code: 'unknown-type', message: `type: unknown frame type ${JSON.stringify(type).slice(0, 80)} (expected one of ${known})` };
  }
  // Counted before the schema walk so an oversized batch is refused without validating every row.
  const rows = (value as { rows?: unknown }).rows;
  if (type === 'scalars' && Array.isArray(rows) && rows.length > MAX_ROWS_PER_FRAME) {
    return {
      ok: false,
      code: 'too-many-rows',
      message: `rows: ${rows.length} rows exceed the limit of ${MAX_ROWS_PER_FRAME} per frame; send them in several frames`,
    };
  }
  if (!checker.Check(value)) return { ok: false, code: 'invalid-frame', message: firstError(checker, value, type, '') };
  const badRows: RowError[] = [];
  if (type === 'scalars') {
    const list = rows as unknown[];
    for (let i = 0; i < list.length; i++) {
      if (!rowChecker.Check(list[i])) badRows.push({ index: i, message: firstError(rowChecker, list[i], `rows[${i}]`, `/rows/${i}`) });
    }
  }
  return { ok: true, frame: value as TrainerFrame, badRows };
}

/** The first schema violation of `value` as 'path: expected X, got Y'. */
export function firstError(checker: TypeCheck<TSchema>, value: unknown, fallback: string, prefix: string): string {
  const first = checker.Errors(value).First();
  if (!first) return `${fallback}: invalid`;
  return `${formatPath(prefix + first.path, fallback)}: ${expectation(first.schema, first.value)}`;
}

/** '/rows/3/values/loss' → 'rows[3].values.loss' */
export function formatPath(pointer: string, fallback: string): string {
  if (pointer === '') return fallback;
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function expectation(schema: TSchema, value: unknown): string {
  if (value === undefined) return `missing (expected ${describeSchema(schema)})`;
  return `expected ${describeSchema(schema)}, got ${describeValue(value)}`;
}

function describeSchema(schema: TSchema): string {
  // `expected` is our own keyword: how a violation reads in an error message.
  if (typeof schema.expected === 'string') return schema.expected;
  switch (schema[Kind]) {
    case 'Integer':
      return typeof schema.minimum === 'number' ? `integer ≥ ${schema.minimum}` : 'integer';
    case 'Number':
      return typeof schema.minimum === 'number' ? `number ≥ ${schema.minimum}` : 'number';
    case 'String':
      if (typeof schema.pattern === 'string') return `string matching ${schema.pattern}`;
      if (typeof schema.maxLength === 'number') return `string of at most ${schema.maxLength} characters`;
      return 'string';
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Union':
      return (schema.anyOf as TSchema[]).map(describeSchema).join(' or ');
    case 'Array':
      return typeof schema.maxItems === 'number' ? `array of at most ${schema.maxItems} items` : 'array';
    case 'Object':
    case 'Record':
      return 'object';
    case 'Null':
      return 'null';
    default:
      return String(schema[Kind] ?? 'valid value').toLowerCase();
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length > 100 ? `array of ${value.length} items` : 'array';
  if (typeof value === 'string') return value.length <= 40 ? `string ${JSON.stringify(value)}` : 'string';
  if (typeof value === 'number') return `${value}`;
  return typeof value;
}
