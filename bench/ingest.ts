// Ingest benchmark (foundation issue): scalar values/s from a separate client process on loopback,
// 50 metrics a row, 100 rows a frame, and the hub process's CPU use measured from /proc.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startServe } from '../test/helpers/serveProcess';
import { tempDir } from '../test/helpers/tmp';

const CLOCK_TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime + stime
}

export interface IngestResult {
  valuesPerSecond: number;
  rowsPerSecond: number;
  hubCores: number;
  seconds: number;
}

/** `rate` in values/s offered by the client; 0 for as fast as the hub takes them. */
export async function benchIngest(frames: number, rate = 0): Promise<IngestResult> {
  const { dir, cleanup } = tempDir('lossradar-bench-');
  const hub = await startServe(['--runs', dir]);
  try {
    const cpuBefore = cpuSeconds(hub.child.pid!);
    const client = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'ingestClient.ts'), hub.url, hub.token, String(frames), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    if (code !== 0) throw new Error(`the bench client exited with ${code}`);
    const hubCpu = cpuSeconds(hub.child.pid!) - cpuBefore;
    const { rows, values, seconds } = JSON.parse(out) as { rows: number; values: number; seconds: number };
    // The hub idles through the client's start-up, so its CPU share is taken over the ingest time.
    return { valuesPerSecond: values / seconds, rowsPerSecond: rows / seconds, hubCores: hubCpu / seconds, seconds };
  } finally {
    await hub.stop();
    cleanup();
  }
}
