// Experiments the user can launch: JSON files under .lossradar/experiments/ in the workspace, plus
// the reference experiments the bundled trainer ships. Plain Node; the schema is also the one
// `contributes.jsonValidation` gives the editor for IntelliSense.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { firstError } from '../protocol/validate';

export const ExperimentSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Shown in the quick pick and used for the run name.' }),
    description: Type.Optional(Type.String({ description: 'A line of detail for the quick pick.' })),
    script: Type.Optional(Type.String({ minLength: 1, description: 'Python file to run, relative to cwd. Give script or module.' })),
    module: Type.Optional(Type.String({ minLength: 1, description: 'Python module to run with -m. Give script or module.' })),
    args: Type.Optional(Type.Array(Type.String(), { description: 'Arguments after the script or module.' })),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra environment variables.' })),
    python: Type.Optional(Type.String({ description: 'Interpreter for this experiment; default: the Python extension’s, then lossradar.pythonPath, then python3.' })),
    cwd: Type.Optional(Type.String({ description: 'Working directory, relative to the workspace folder.' })),
    gpus: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { description: 'GPU indices, passed as CUDA_VISIBLE_DEVICES.' })),
    launcher: Type.Optional(Type.Literal('torchrun', { description: 'Run under torchrun (torch.distributed.run).' })),
    nproc: Type.Optional(Type.Integer({ minimum: 1, description: 'Processes per node under torchrun.' })),
    rescue: Type.Optional(
      Type.Object(
        {
          mode: Type.Union([Type.Literal('off'), Type.Literal('auto')], { description: 'auto: on a critical alert the run rolls back and lowers its lr by itself (docs/rescue.md).' }),
          action: Type.Optional(Type.Union([Type.Literal('rollback'), Type.Literal('lower-lr')], { description: 'What a rescue does (default rollback: roll back and lower the lr).' })),
          maxRescues: Type.Optional(Type.Integer({ minimum: 0, description: 'At most this many rescues per run (default 2).' })),
          lrFactor: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'The lr is multiplied by this (default 0.5).' })),
        },
        { additionalProperties: false, description: 'The rescue policy of the runs this experiment starts (the script must call run.watch(model, optimizer=...)); passed as LOSSRADAR_RESCUE.' },
      ),
    ),
  },
  { additionalProperties: false, title: 'Loss Radar experiment' },
);
export type Experiment = Static<typeof ExperimentSchema>;

const check = TypeCompiler.Compile(ExperimentSchema);

export interface LoadedExperiment {
  experiment: Experiment;
  /** The file it came from; null for a built-in reference experiment. */
  file: string | null;
}

export interface ExperimentProblem {
  file: string;
  message: string;
}

export function validateExperiment(value: unknown): { ok: true; experiment: Experiment } | { ok: false; message: string } {
  if (!check.Check(value)) return { ok: false, message: firstError(check, value, 'experiment', '') };
  const e = value as Experiment;
  if ((e.script === undefined) === (e.module === undefined)) return { ok: false, message: 'give exactly one of "script" or "module"' };
  if (e.nproc !== undefined && e.launcher !== 'torchrun') return { ok: false, message: 'nproc: only meaningful with "launcher": "torchrun"' };
  return { ok: true, experiment: e };
}

/** Every *.json in `dir`; a bad file is reported and skipped, never fatal. */
export async function loadExperiments(dir: string): Promise<{ experiments: LoadedExperiment[]; problems: ExperimentProblem[] }> {
  const experiments: LoadedExperiment[] = [];
  const problems: ExperimentProblem[] = [];
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return { experiments, problems };
  }
  for (const name of names) {
    const file = path.join(dir, name);
    let value: unknown;
    try {
      value = JSON.parse(await fsp.readFile(file, 'utf8'));
    } catch (err) {
      problems.push({ file, message: `not valid JSON: ${(err as Error).message}` });
      continue;
    }
    const result = validateExperiment(value);
    if (result.ok) experiments.push({ experiment: result.experiment, file });
    else problems.push({ file, message: result.message });
  }
  return { experiments, problems };
}

/** The reference trainer's experiments (lossradar_trainer/experiments/*.json beside the SDK), as launchable ones. */
export async function builtInExperiments(sdkDir: string): Promise<LoadedExperiment[]> {
  const dir = path.join(sdkDir, 'lossradar_trainer', 'experiments');
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.json') && !n.includes('schema')).sort();
  } catch {
    return [];
  }
  const out: LoadedExperiment[] = [];
  for (const file of names) {
    const name = file.replace(/\.json$/, '');
    let description = 'reference experiment';
    try {
      const parsed = JSON.parse(await fsp.readFile(path.join(dir, file), 'utf8')) as { description?: unknown };
      if (typeof parsed.description === 'string') description = parsed.description;
    } catch {
      // A broken built-in still launches; the trainer reports the problem.
    }
    out.push({ experiment: { name, description, module: 'lossradar_trainer.train', args: ['--experiment', name] }, file: null });
  }
  return out;
}

export interface CommandLine {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export function commandLine(e: Experiment, python: string, workspace: string): CommandLine {
  const target = e.script !== undefined ? [e.script] : ['-m', e.module!];
  const launcher = e.launcher === 'torchrun' ? ['-m', 'torch.distributed.run', '--nproc_per_node', String(e.nproc ?? 1)] : [];
  const env: Record<string, string> = { ...(e.env ?? {}) };
  if (e.gpus) env.CUDA_VISIBLE_DEVICES = e.gpus.join(',');
  // lossradar.init() reads it when the script passes no rescue= of its own (docs/rescue.md).
  if (e.rescue) env.LOSSRADAR_RESCUE = JSON.stringify(e.rescue);
  return {
    command: e.python ?? python,
    args: [...launcher, ...target, ...(e.args ?? [])],
    cwd: e.cwd ? path.resolve(workspace, e.cwd) : workspace,
    env,
  };
}

/** The command line as a person would type it, for the quick pick's detail. */
export function describeCommand(c: CommandLine): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const env = Object.entries(c.env).map(([k, v]) => `${k}=${quote(v)}`);
  return [...env, quote(c.command), ...c.args.map(quote)].join(' ');
}
