// `lossradar import PATH [--name N] [--runs DIR] [--from FORMAT] [--python P] [--format text|json]`
// (docs/import.md). Exit code: 0 when every log found became a run, 1 when one could not be read
// or none was found (the others are still imported), 2 for a usage error or an interpreter that
// cannot run the readers.
import * as path from 'node:path';
import { choiceFlag, flag, pythonFlag, UsageError, type ParsedArgs } from '../cli/args';
import { sdkPath } from '../launch/trainerEnv';
import { importLogs, ImportLogsError, LOG_FORMATS, type ImportLogsResult } from './importLogs';

/** The SDK beside this bundle (dist/python in the VSIX, trainer/ in a checkout). */
export function bundledSdk(): string {
  return sdkPath(path.resolve(__dirname, '..'));
}

export async function importCommand(args: ParsedArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [target, ...extra] = args.positional;
  if (!target || extra.length > 0) throw new UsageError('import takes one PATH (a log folder or one log file)');
  const format = choiceFlag(args, 'format', ['json', 'text'], 'text');
  const runsDir = path.resolve(flag(args, 'runs') ?? path.join('.lossradar', 'runs'));
  const options = { path: target, runsDir, name: flag(args, 'name'), only: choiceFlag(args, 'from', LOG_FORMATS), python: pythonFlag(args), sdk: bundledSdk() };
  let result: ImportLogsResult;
  try {
    result = await importLogs(options);
  } catch (e) {
    if (!(e instanceof ImportLogsError)) throw e;
    if (e.result) {
      report(e.result, format, out, err);
      return 1;
    }
    err.write(`lossradar import: ${e.message}\n`);
    return 2;
  }
  report(result, format, out, err);
  return result.errors.length > 0 ? 1 : 0;
}

function report(result: ImportLogsResult, format: 'json' | 'text', out: NodeJS.WritableStream, err: NodeJS.WritableStream): void {
  if (format === 'json') out.write(JSON.stringify(result) + '\n');
  else {
    for (const run of result.runs) {
      out.write(`run ${run.id}  ${run.name}  (${run.format}: ${run.rows} rows, ${run.metrics.length} metrics)  from ${run.source}\n`);
    }
  }
  for (const w of result.warnings) err.write(`lossradar import: warning: ${w}\n`);
  for (const e of result.errors) err.write(`lossradar import: error: ${e}\n`);
}
