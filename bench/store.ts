// The store's benchmarks (issue 19; docs/store.md): a long run's resume, first frame, zoom, RSS and
// bytes on disk per value against today's JSON lines; and a soak of several clients streaming.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { writeLargeRun } from '../test/helpers/largeRun';
import { startServe } from '../test/helpers/serveProcess';
import { tempDir } from '../test/helpers/tmp';

function runChild(script: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited with ${code}`)))));
}

export interface LongRunResult {
  rows: number;
  metrics: number;
  resumeMs: number;
  firstFrameMs: number;
  longestBlockMs: number;
  /** The longest block of each phase: resume, show, zoom. */
  blocks: Record<string, number>;
  /** A random 1 % zoom in the dashboard in Chromium, from its question to its redraw (bench/zoomDrawn.ts). */
  drawn: { zooms: number; p50Ms: number; maxMs: number; hostP50Ms: number; points: number; metrics: number };
  rssMiB: number;
  zoomP50Ms: number;
  zoomMaxMs: number;
  zoomPoints: number;
  snapshotPoints: number;
  heldBytes: number;
  jsonBytesPerValue: number;
  columnBytesPerValue: number;
}

/** A run of `rows` × `metrics` written as the hub writes it, then resumed, shown and zoomed by a hub of its own. */
export async function benchLongRun(rows = 1_000_000, metrics = 50): Promise<LongRunResult> {
  const { dir, cleanup } = tempDir('lossradar-bench-store-');
  try {
    const { dir: runDir, bytes } = await writeLargeRun(dir, 'long-run', rows, metrics, { nanAt: Math.floor(rows * 0.7) });
    const cols = path.join(runDir, 'columns');
    const columnBytes = readdirSync(cols).reduce((n, f) => n + statSync(path.join(cols, f)).size, 0);
    const r = JSON.parse(await runChild('storeResume.ts', [dir, 'long-run', String(rows)])) as Omit<LongRunResult, 'rows' | 'metrics' | 'jsonBytesPerValue' | 'columnBytesPerValue' | 'drawn'>;
    const drawn = JSON.parse(await runChild('zoomDrawn.ts', [dir, 'long-run', '10'])) as LongRunResult['drawn'];
    return { rows, metrics, ...r, drawn, jsonBytesPerValue: bytes / (rows * metrics), columnBytesPerValue: columnBytes / (rows * metrics) };
  } finally {
    cleanup();
  }
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

export interface SoakResult {
  minutes: number;
  clients: number;
  rowsPerSecond: number;
  growthMiBPerMin: number;
  rssStartMiB: number;
  rssEndMiB: number;
}

/**
 * `clients` trainers together at `rowsPerSecond` rows/s of 50 metrics for `minutes`; the hub's RSS
 * sampled every 5 s, its growth after the first minute fitted by least squares.
 */
export async function benchSoak(minutes: number, clients = 4, rowsPerSecond = 2000): Promise<SoakResult> {
  const { dir, cleanup } = tempDir('lossradar-bench-soak-');
  const hub = await startServe(['--runs', dir]);
  try {
    const pid = hub.child.pid!;
    const perClient = (rowsPerSecond / clients) * 50;
    const frames = Math.ceil((minutes * 60 * rowsPerSecond) / clients / 100);
    const samples: [number, number][] = [];
    const t0 = Date.now();
    const sampler = setInterval(() => samples.push([(Date.now() - t0) / 60_000, rssMiB(pid)]), 5000);
    await Promise.all(Array.from({ length: clients }, () => runChild('ingestClient.ts', [hub.url, hub.token, String(frames), String(perClient)])));
    clearInterval(sampler);
    const late = samples.filter(([t]) => t >= 1);
    const n = late.length;
    const mt = late.reduce((a, [t]) => a + t, 0) / n;
    const mr = late.reduce((a, [, r]) => a + r, 0) / n;
    const slope = late.reduce((a, [t, r]) => a + (t - mt) * (r - mr), 0) / late.reduce((a, [t]) => a + (t - mt) ** 2, 0);
    return { minutes, clients, rowsPerSecond, growthMiBPerMin: slope, rssStartMiB: late[0]?.[1] ?? NaN, rssEndMiB: samples[samples.length - 1]?.[1] ?? NaN };
  } finally {
    await hub.stop();
    cleanup();
  }
}
