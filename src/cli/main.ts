// Entry point of dist/cli.js: `lossradar serve|detect|run …` (design.md §6).
import { parseArgs, UsageError } from './args';
import { detect } from './detect';
import { run } from './run';
import { serve } from './serve';

const USAGE = `usage:
  lossradar serve [--port N] [--runs DIR] [--token T] [--folder F --discovery-dir D]
      the hub without VS Code; prints {"url":…,"token":…} once listening
  lossradar detect FILE.jsonl|FILE.jsonl.gz|RUN_DIR [--format json|text] [--set name=value]…
      replays a saved run through the detectors; one alert per line; exit 1 if a critical fired
  lossradar run EXPERIMENT [--python P] [--runs DIR] [-- trainer args…]
      the hub + the reference trainer (python -m lossradar.train) + a live terminal view`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { stop } = await serve(parseArgs(rest));
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await stop();
      return 0;
    }
    case 'run': {
      const dash = rest.indexOf('--');
      const own = dash < 0 ? rest : rest.slice(0, dash);
      return run(parseArgs(own), dash < 0 ? [] : rest.slice(dash + 1));
    }
    case 'detect':
      return detect(parseArgs(rest));
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`lossradar: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`lossradar: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
