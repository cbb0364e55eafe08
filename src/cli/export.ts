// `lossradar export RUN [--format csv|parquet|arrow] [--out FILE] [--runs DIR]`: a run's rows for
// people who continue in pandas, polars or DuckDB (docs/store.md "Export"). RUN is a run folder or
// a run id under --runs. Arrow IPC and Parquet carry one column per metric (float64, null where a
// row did not log it, NaN and ±∞ as themselves) beside step, time, seq and rank; each sealed
// segment becomes a record batch (Arrow) or a row group (Parquet, through hyparquet-writer, pure
// JavaScript), so a run of millions of rows is never held whole. CSV is the dashboard's writer
// (src/export/csv.ts). The file is written under a temporary name and renamed when complete.
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import { Field, Float64, Int32, Int64, makeData, RecordBatch, RecordBatchFileWriter, Schema, Struct, Table } from 'apache-arrow';
import { ParquetWriter, fileWriter, schemaFromColumnData, type ColumnSource } from 'hyparquet-writer';
import { exportRunCsv } from '../export/csv';
import { ROW_COLUMNS } from '../store/columns';
import { runTables } from '../store/runTables';
import { choiceFlag, flag, UsageError, type ParsedArgs } from './args';

export const EXPORT_FORMATS = ['csv', 'parquet', 'arrow'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export async function exportCommand(args: ParsedArgs, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const target = args.positional[0];
  if (target === undefined || args.positional.length > 1) throw new UsageError('expected one RUN (a run folder, or a run id under --runs)');
  const format = choiceFlag(args, 'format', EXPORT_FORMATS, 'csv');
  const runDir = await resolveRun(target, flag(args, 'runs'));
  const out = path.resolve(flag(args, 'out') ?? `${path.basename(runDir)}.${format === 'arrow' ? 'arrow' : format}`);
  const result = await exportRun(runDir, out, format, (p) => say(`lossradar: ${path.join(runDir, 'metrics.jsonl')}${p.line > 0 ? `:${p.line}` : ''}: ${p.message}`));
  say(`lossradar: wrote ${result.rows} rows × ${result.metrics} metrics of ${path.basename(runDir)} to ${out}`);
  return 0;
}

async function resolveRun(target: string, runs: string | undefined): Promise<string> {
  const candidates = [path.resolve(target), path.resolve(runs ?? path.join('.lossradar', 'runs'), target)];
  for (const dir of candidates) {
    try {
      await fsp.access(path.join(dir, 'metrics.jsonl'));
      return dir;
    } catch {
      // Not this one.
    }
  }
  throw new UsageError(`${JSON.stringify(target)} is not a run: no metrics.jsonl in ${candidates.join(' or ')}`);
}

export interface ExportResult {
  rows: number;
  metrics: number;
}

export async function exportRun(runDir: string, out: string, format: ExportFormat, problem: (p: { line: number; message: string }) => void = () => undefined): Promise<ExportResult> {
  if (format === 'csv') {
    const r = await exportRunCsv(runDir, out);
    return { rows: r.rows, metrics: r.metrics };
  }
  // Every metric of the run is a column of every batch: a first pass reads only the schemas.
  const metrics = new Map<string, true>();
  for await (const t of runTables(runDir)) for (const f of t.schema.fields) if (!(ROW_COLUMNS as readonly string[]).includes(f.name)) metrics.set(f.name, true);
  const names = [...metrics.keys()];
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    const rows = format === 'arrow' ? await writeArrow(runDir, tmp, names, problem) : await writeParquet(runDir, tmp, names, problem);
    await fsp.rename(tmp, out);
    return { rows, metrics: names.length };
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

function unifiedSchema(names: readonly string[]): Schema {
  return new Schema([
    new Field('step', new Int64(), false),
    new Field('time', new Float64(), true),
    new Field('seq', new Int64(), true),
    new Field('rank', new Int32(), true),
    ...names.map((n) => new Field(n, new Float64(), true)),
  ]);
}

/** One batch's columns in the run's schema; a metric it lacks is a column of nulls. */
function conform(table: Table, schema: Schema): RecordBatch {
  const n = table.numRows;
  const children = schema.fields.map((f) => {
    const col = table.getChild(f.name);
    if (col) return col.data[0];
    return makeData({ type: f.type, length: n, nullCount: n, nullBitmap: new Uint8Array(((n + 63) >> 6) << 3) });
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, children: children as never }));
}

async function writeArrow(runDir: string, file: string, names: readonly string[], problem: (p: { line: number; message: string }) => void): Promise<number> {
  const schema = unifiedSchema(names);
  const writer = new RecordBatchFileWriter();
  const sink = createWriteStream(file);
  // The writer's bytes are taken as it makes them (its async iterator), so the file is streamed.
  const pumped = (async () => {
    for await (const chunk of writer) if (!sink.write(chunk)) await once(sink, 'drain');
    sink.end();
    await once(sink, 'close');
  })();
  let rows = 0;
  for await (const table of runTables(runDir, problem)) {
    // A table of several batches (a long log's tail) is taken batch by batch.
    for (const batch of table.batches) {
      const one = conform(new Table(batch), schema);
      writer.write(one);
      rows += one.numRows;
    }
  }
  writer.finish();
  await pumped;
  return rows;
}

async function writeParquet(runDir: string, file: string, names: readonly string[], problem: (p: { line: number; message: string }) => void): Promise<number> {
  const nullable = (col: ReturnType<Table['getChild']>, n: number, int: boolean): (number | bigint | null)[] => {
    const out: (number | bigint | null)[] = new Array(n).fill(null);
    if (!col) return out;
    for (let i = 0; i < n; i++) {
      const v = col.get(i) as number | bigint | null;
      out[i] = v === null ? null : int ? BigInt(v) : v;
    }
    return out;
  };
  const columns = (table: Table): ColumnSource[] => {
    const n = table.numRows;
    return [
      { name: 'step', data: nullable(table.getChild('step'), n, true) as bigint[], type: 'INT64', nullable: false },
      { name: 'time', data: nullable(table.getChild('time'), n, false), type: 'DOUBLE', nullable: true },
      { name: 'seq', data: nullable(table.getChild('seq'), n, true), type: 'INT64', nullable: true },
      { name: 'rank', data: nullable(table.getChild('rank'), n, false), type: 'INT32', nullable: true },
      ...names.map((name): ColumnSource => ({ name, data: nullable(table.getChild(name), n, false), type: 'DOUBLE', nullable: true })),
    ];
  };
  let writer: ParquetWriter | undefined;
  let rows = 0;
  for await (const table of runTables(runDir, problem)) {
    const data = columns(table);
    writer ??= new ParquetWriter({ writer: fileWriter(file), schema: schemaFromColumnData({ columnData: data }), createdBy: 'lossradar' });
    await writer.write({ columnData: data, rowGroupSize: Math.max(1, table.numRows) });
    rows += table.numRows;
  }
  if (!writer) {
    writer = new ParquetWriter({ writer: fileWriter(file), schema: schemaFromColumnData({ columnData: columns(emptyTable()) }), createdBy: 'lossradar' });
  }
  await writer.finish();
  return rows;
}

function emptyTable(): Table {
  return { numRows: 0, getChild: () => null } as unknown as Table;
}
