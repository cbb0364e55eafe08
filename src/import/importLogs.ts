// Logs people already have (TensorBoard, Hugging Face trainer_state.json, Lightning CSVLogger,
// DVCLive) written as runs of the store, so the Runs tree, the dashboard and `lossradar detect`
// take them like any recorded run (docs/import.md). The readers are the SDK's
// (`python -m lossradar.logs`): TensorBoard's event files need its Python reader, and each format
// has one implementation. Plain Node, no `vscode`: `lossradar import`, `lossradar detect PATH` and
// the extension's "Open Logs…" all call importLogs.
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRows, type LoadedRows } from '../detect/replay';

export const LOG_FORMATS = ['tensorboard', 'huggingface', 'lightning', 'dvclive'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface ImportLogsOptions {
  /** A log folder or one log file; a folder of many runs gives many runs. */
  path: string;
  runsDir: string;
  /** The run's name; for several runs, NAME/<folder>. Default: the folder's name. */
  name?: string;
  /** Only this format (a Hugging Face output's TensorBoard logs are otherwise passed over). */
  only?: LogFormat;
  /** The interpreter that runs the readers (TensorBoard needs its `tensorboard` package). */
  python: string;
  /** The folder holding the `lossradar` package (sdkPath of src/launch/trainerEnv.ts); put first on PYTHONPATH. */
  sdk?: string;
  signal?: AbortSignal;
}

export interface ImportedRun {
  id: string;
  dir: string;
  name: string;
  format: LogFormat;
  source: string;
  rows: number;
  metrics: string[];
}

export interface ImportLogsResult {
  runIds: string[];
  runs: ImportedRun[];
  /** Imported, but something was passed over: a skipped line, a torn tail, a config not read. */
  warnings: string[];
  /** Logs that gave no run; the others were still imported. */
  errors: string[];
}

/** Nothing was imported: the interpreter could not run the readers, or no log could be read. */
export class ImportLogsError extends Error {
  constructor(
    message: string,
    readonly result?: ImportLogsResult,
  ) {
    super(message);
  }
}

export async function importLogs(options: ImportLogsOptions): Promise<ImportLogsResult> {
  const args = ['-m', 'lossradar.logs', 'import', path.resolve(options.path), '--runs', path.resolve(options.runsDir), '--json'];
  if (options.name !== undefined) args.push('--name', options.name);
  if (options.only !== undefined) args.push('--from', options.only);
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
  if (options.sdk) env.PYTHONPATH = [options.sdk, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  const { code, stdout, stderr, spawnError } = await runPython(options.python, args, env, options.signal);
  if (options.signal?.aborted) throw new ImportLogsError(`import of ${options.path} cancelled`);
  if (spawnError) {
    const why = spawnError.code === 'ENOENT' || spawnError.code === 'EACCES' ? `was not found (${spawnError.code})` : `could not be started (${spawnError.message})`;
    throw new ImportLogsError(`Python interpreter "${options.python}" ${why}; importing logs needs one (--python, LOSSRADAR_PYTHON or lossradar.pythonPath)`);
  }
  const result = parseResult(stdout);
  if (!result) {
    const tail = stderr.trim().split('\n').slice(-3).join(' ');
    if (/No module named ['"]?lossradar/.test(stderr)) {
      throw new ImportLogsError(`${options.python} cannot import the lossradar SDK (${tail}); it ships in the extension's dist/python`);
    }
    throw new ImportLogsError(`${options.python} -m lossradar.logs failed (exit ${code}): ${tail || 'no output'}`);
  }
  if (result.runs.length === 0) throw new ImportLogsError(result.errors.join('\n') || `nothing imported from ${options.path}`, result);
  return result;
}

function parseResult(stdout: string): ImportLogsResult | undefined {
  const last = stdout.trim().split('\n').pop() ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(last);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Partial<Record<'runs' | 'warnings' | 'errors', unknown>>;
  if (!Array.isArray(r.runs) || !Array.isArray(r.warnings) || !Array.isArray(r.errors)) return undefined;
  const runs = r.runs as ImportedRun[];
  return { runIds: runs.map((run) => run.id), runs, warnings: r.warnings.map(String), errors: r.errors.map(String) };
}

function runPython(
  python: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal | undefined,
): Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const child = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
    child.on('error', (e: NodeJS.ErrnoException) => {
      // A child that never started has no close to wait for; an abort (the child was killed) has.
      if (child.pid === undefined) resolve({ code: null, stdout: '', stderr: '', spawnError: e });
    });
    child.on('close', (code) => resolve({ code, stdout: text(out), stderr: text(err) }));
  });
}

/**
 * The rows of the one run in a log folder or file, for `lossradar detect PATH`: imported into a
 * temporary runs folder (removed before this returns) and read back as a run folder is, so the
 * replay sees exactly what an import would store.
 */
export async function loadLogRows(options: Omit<ImportLogsOptions, 'runsDir' | 'name'>): Promise<{ loaded: LoadedRows; run: ImportedRun; warnings: string[] }> {
  const runsDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lossradar-detect-'));
  try {
    const result = await importLogs({ ...options, runsDir });
    if (result.runs.length > 1) {
      const names = result.runs.map((r) => r.source).join(', ');
      throw new ImportLogsError(`${options.path} holds ${result.runs.length} runs (${names}); detect replays one: give one of their folders`, result);
    }
    const [run] = result.runs;
    const loaded = await loadRows(run.dir);
    return { loaded, run, warnings: [...result.warnings, ...result.errors] };
  } finally {
    await fsp.rm(runsDir, { recursive: true, force: true });
  }
}

/** A run of the store (metrics.jsonl, its .gz, or a folder holding one) rather than logs to import. */
export async function isRunTarget(target: string): Promise<boolean> {
  let stat;
  try {
    stat = await fsp.stat(target);
  } catch {
    return true; // not there: the run reader says so, as it always has
  }
  if (!stat.isDirectory()) return target.endsWith('.jsonl') || target.endsWith('.jsonl.gz');
  for (const file of ['metrics.jsonl', 'meta.json']) {
    if (await fsp.stat(path.join(target, file)).then(() => true, () => false)) return true;
  }
  return false;
}
