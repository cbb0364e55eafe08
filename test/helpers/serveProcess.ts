// `lossradar serve` as a real subprocess, the way SDKs in other languages meet it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  token: string;
  stderr: () => string;
  /** stdout lines after the first (the alerts, as JSON). */
  lines: string[];
  /** Whether the process has exited (for whatever reason). */
  exited: () => boolean;
  /**
   * Signals the process and resolves with its exit code. Rejects if the hub ever reported an
   * internal error (an unhandled rejection it survived): every test of serve fails on one.
   */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export async function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      hasExited = true;
      resolve(code);
    }),
  );
  const later: string[] = [];
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    let seenFirst = false;
    lines.on('line', (line) => {
      if (seenFirst) later.push(line);
      else {
        seenFirst = true;
        resolve(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  const { url, token } = JSON.parse(first) as { url: string; token: string };
  return {
    child,
    url,
    token,
    stderr: () => stderr,
    lines: later,
    exited: () => hasExited,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      const code = await exited;
      if (stderr.includes('internal error')) throw new Error(`serve reported an internal error:\n${stderr}`);
      return code;
    },
  };
}
