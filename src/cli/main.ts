// Entry point of dist/cli.js: `lossradar serve|detect|run|import|export …` (design.md §6).
import { importCommand } from '../import/cli';
import { parseArgs, UsageError, type CommandSpec } from './args';
import { detect } from './detect';
import { exportCommand } from './export';
import { run } from './run';
import { serve } from './serve';

const COMMANDS = {
  serve: {
    usage: `lossradar serve [--port N] [--runs DIR] [--token T] [--folder F]… [--discovery-dir D]
      the hub without VS Code; prints {"url":…,"token":…,"runs":…} once listening, then one JSON
      line per alert; --folder publishes it in the discovery directory for scripts run under F
      (--heartbeat-ms, --hello-timeout-ms, --reconnect-window-ms tune the connection timings)`,
    options: {
      port: {},
      runs: {},
      token: {},
      folder: { multiple: true },
      'discovery-dir': {},
      'heartbeat-ms': {},
      'hello-timeout-ms': {},
      'reconnect-window-ms': {},
    },
  },
  detect: {
    usage: `lossradar detect FILE.jsonl|FILE.jsonl.gz|RUN_DIR|LOG_PATH [--format json|text] [--set name=value]… [--python P]
      replays a saved run through the detectors; one alert per line; exit 1 if a critical alert
      fired, 0 if not, 2 on a usage or read error; LOG_PATH (logs of one run, as for import) is
      read through P (default $LOSSRADAR_PYTHON, else python3)`,
    options: { format: {}, set: { multiple: true }, python: {} },
  },
  run: {
    usage: `lossradar run EXPERIMENT [--python P] [--runs DIR] [-- trainer args…]
      the hub + the reference trainer (python -m lossradar_trainer.train) + a live terminal view`,
    options: { python: {}, runs: {} },
  },
  import: {
    usage: `lossradar import PATH [--name N] [--runs DIR] [--from tensorboard|huggingface|lightning|dvclive] [--python P] [--format text|json]
      turns logs you already have into runs (TensorBoard event folders, Hugging Face
      trainer_state.json, Lightning CSVLogger, DVCLive); a folder of many runs gives many runs;
      read through P (default $LOSSRADAR_PYTHON, else python3; TensorBoard needs its package);
      exit 1 if a log could not be read (the others are imported), 2 on a usage error`,
    options: { name: {}, runs: {}, from: {}, python: {}, format: {} },
  },
  export: {
    usage: `lossradar export RUN [--format csv|parquet|arrow] [--out FILE] [--runs DIR]
      writes a run's rows for pandas, polars or DuckDB (docs/store.md "Export"): RUN is a run
      folder or a run id under DIR (default .lossradar/runs); FILE defaults to RUN.FORMAT`,
    options: { format: {}, out: {}, runs: {} },
  },
} satisfies Record<string, CommandSpec>;
type Command = keyof typeof COMMANDS;

const USAGE = `usage:\n${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join('\n')}\n  lossradar COMMAND --help\n      the usage of one command`;

const isCommand = (name: string | undefined): name is Command => name !== undefined && Object.hasOwn(COMMANDS, name);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = rest[0];
    process.stdout.write((isCommand(topic) ? `usage:\n  ${COMMANDS[topic].usage}` : USAGE) + '\n');
    return command === undefined ? 2 : 0;
  }
  if (!isCommand(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const dash = rest.indexOf('--');
  const own = dash < 0 ? rest : rest.slice(0, dash);
  let args;
  try {
    args = parseArgs(own, COMMANDS[command]);
  } catch (err) {
    if (err instanceof UsageError) throw new CommandUsageError(command, err.message);
    throw err;
  }
  if (args.help) {
    process.stdout.write(`usage:\n  ${COMMANDS[command].usage}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'serve': {
        // Listened for before serve prints its address: a signal right after that line must
        // still stop the hub cleanly (flushing its runs, removing its discovery entry).
        const signalled = new Promise<void>((resolve) => {
          const done = () => resolve();
          process.once('SIGINT', done);
          process.once('SIGTERM', done);
        });
        const { stop } = await serve(args);
        await signalled;
        await stop();
        return 0;
      }
      case 'run':
        return await run(args, dash < 0 ? [] : rest.slice(dash + 1));
      case 'detect':
        return await detect(args);
      case 'import':
        return await importCommand(args);
      case 'export':
        return await exportCommand(args);
    }
  } catch (err) {
    if (err instanceof UsageError && !(err instanceof CommandUsageError)) throw new CommandUsageError(command, err.message);
    throw err;
  }
}

class CommandUsageError extends UsageError {
  constructor(
    readonly command: Command,
    message: string,
  ) {
    super(message);
  }
}

// The hub must outlive a bug of ours in one connection: a stray rejection is said, loudly, and the
// hub goes on serving (tests fail on the "internal error" line). A thrown exception leaves the
// process in an unknown state, so it ends it, after saying so.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`lossradar: internal error (unhandled rejection): ${(reason as Error)?.stack ?? String(reason)}\n`);
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      const usage = err instanceof CommandUsageError ? `usage:\n  ${COMMANDS[err.command].usage}` : USAGE;
      process.stderr.write(`lossradar: ${err.message}\n${usage}\n`);
      process.exit(2);
    }
    process.stderr.write(`lossradar: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
