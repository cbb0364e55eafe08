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
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export async function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}
