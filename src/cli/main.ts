// Entry point of dist/cli.js: `lossradar serve|detect|run …` (design.md §6).
import { parseArgs, UsageError } from './args';
import { serve } from './serve';

const USAGE = `usage:
  lossradar serve [--port N] [--runs DIR] [--token T] [--folder F --discovery-dir D]
      the hub without VS Code; prints {"url":…,"token":…} once listening`;

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
