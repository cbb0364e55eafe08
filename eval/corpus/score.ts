// Scoring of the corpus (eval/README.md, "Corpus protocol"): replays runs through the detectors
// in-process and scores them against the loss-only labels of manifest.json and the peers' first
// alerts of peers.json. Shared by the CLI (eval/corpus/evaluate.ts) and the sealed-split test.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Alert } from '../../src/detect/alert';
import { loadRows, replay } from '../../src/detect/replay';
import type { DetectorSettings } from '../../src/detect/settings';

export const CORPUS_DIR = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'corpus');
/** Other people's published training logs (eval/published/extract.py): scored the same way. */
export const PUBLISHED_DIR = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'published');
/** Healthy runs of kinds neither of the others holds (eval/zoo/generate.py): every alert is a false alarm. */
export const ZOO_DIR = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'zoo');
export const PEERS = ['lightning', 'llm-foundry', 'olmo-core', 'megatron', 'trainpulse', 'trainscope'] as const;

export interface ManifestRun {
  file: string;
  split: 'dev' | 'sealed';
  family: string;
  mechanism: string;
  label: 'healthy' | 'explode' | 'stall' | 'spike-recover';
  onset: number | null;
  /** An explosion without a healthy phase before it (it never learned) is reported, not scored. */
  healthy_phase: boolean;
  rows: number;
  last_step: number;
}

/** The corpus splits by family; the published logs split by a hash of their source (`rule`). */
export type Split = { dev: string[]; sealed: string[] } | { rule: string };

export interface Manifest<S extends Split = { dev: string[]; sealed: string[] }> {
  split: S;
  runs: Record<string, ManifestRun>;
}

export function loadManifest<S extends Split = { dev: string[]; sealed: string[] }>(dir = CORPUS_DIR): Manifest<S> {
  return JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest<S>;
}

/** The peers' first alerts (eval/corpus/run_peers.py); empty when it has not been run yet. */
export function loadPeers(dir = CORPUS_DIR): Record<string, Record<string, number | null>> {
  const file = path.join(dir, 'peers.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).peers : {};
}

export interface RunScore {
  name: string;
  family: string;
  label: ManifestRun['label'];
  onset: number | null;
  steps: number;
  opened: Alert[];
  /** Exploding runs: the earliest alert opened before the onset and still open at it. */
  openAtOnset: Alert | null;
  lead: number | null;
}

/** Where a run's alerts come from: the detectors of this checkout, in-process (the default), or
 *  another build's `lossradar detect` (`--cli dist/cli.js`: the figures of the defaults before a change). */
export type AlertSource = (file: string, settings: Partial<DetectorSettings>) => Promise<Alert[]>;

export const inProcess: AlertSource = async (file, settings) => replay((await loadRows(file)).rows, settings);

export function fromCli(cli: string): AlertSource {
  return async (file) => {
    const res = spawnSync(process.execPath, [cli, 'detect', file, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0 && res.status !== 1) throw new Error(`${cli} detect ${file}: exit ${res.status}: ${res.stderr}`);
    return res.stdout.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as Alert);
  };
}

/** Replays one run and keeps what the scoring needs. */
export async function scoreRun(
  name: string,
  run: ManifestRun,
  settings: Partial<DetectorSettings> = {},
  source: AlertSource = inProcess,
  dir = CORPUS_DIR,
): Promise<RunScore> {
  const alerts = await source(path.join(dir, run.file), settings);
  const opened = alerts.filter((a) => a.state === 'open');
  const closedAt = new Map<string, number>();
  for (const a of alerts) if (a.state === 'closed' && a.closedStep !== undefined) closedAt.set(a.id, a.closedStep);
  let openAtOnset: Alert | null = null;
  if (run.label === 'explode' && run.onset !== null) {
    const onset = run.onset;
    // "Still open at the onset": opened strictly before it and not closed by it.
    openAtOnset = opened.find((a) => a.step < onset && !((closedAt.get(a.id) ?? Number.POSITIVE_INFINITY) <= onset)) ?? null;
  }
  return {
    name,
    family: run.family,
    label: run.label,
    onset: run.onset,
    steps: run.rows,
    opened,
    openAtOnset,
    lead: openAtOnset && run.onset !== null ? run.onset - openAtOnset.step : null,
  };
}

export interface GroupFigures {
  runs: number;
  healthy: number;
  exploding: number;
  /** Healthy runs with any alert at all. */
  falseAlarmRuns: string[];
  quietHealthyShare: number;
  alertsPer10kHealthySteps: number;
  /** Exploding runs warned before the onset with the warning still open at it. */
  recalled: number;
  recall: number;
  missed: string[];
  leads: number[];
  medianLead: number | null;
  /** Peers with no alert on any healthy run of the group. */
  cleanPeers: string[];
  leadsOverBestCleanPeer: number[];
  medianLeadOverBestCleanPeer: number | null;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The figures of a group of scored runs; peers' clean-ness is judged on the same group's healthy runs. */
export function figures(scores: RunScore[], peers: Record<string, Record<string, number | null>>, runs: Record<string, ManifestRun>): GroupFigures {
  const healthy = scores.filter((s) => s.label === 'healthy');
  const exploding = scores.filter((s) => s.label === 'explode' && runs[s.name].healthy_phase);
  const falseAlarmRuns = healthy.filter((s) => s.opened.length > 0).map((s) => s.name);
  const healthySteps = healthy.reduce((n, s) => n + s.steps, 0);
  const healthyAlerts = healthy.reduce((n, s) => n + s.opened.length, 0);
  const cleanPeers = PEERS.filter((p) => healthy.every((s) => (peers[s.name]?.[p] ?? null) === null));
  const leads: number[] = [];
  const over: number[] = [];
  const missed: string[] = [];
  for (const s of exploding) {
    const onset = s.onset!;
    const silent = runs[s.name].last_step + 1;
    if (s.lead !== null) leads.push(s.lead);
    else missed.push(s.name);
    // A silent detector counts as alerting one step after the run's end: it never helps its side.
    const ours = s.lead ?? onset - silent;
    const peerLeads = cleanPeers.map((p) => onset - (peers[s.name]?.[p] ?? silent));
    const best = peerLeads.length ? Math.max(...peerLeads) : onset - silent;
    over.push(ours - best);
  }
  return {
    runs: scores.length,
    healthy: healthy.length,
    exploding: exploding.length,
    falseAlarmRuns,
    quietHealthyShare: healthy.length ? 1 - falseAlarmRuns.length / healthy.length : 1,
    alertsPer10kHealthySteps: healthySteps ? (1e4 * healthyAlerts) / healthySteps : 0,
    recalled: exploding.length - missed.length,
    recall: exploding.length ? (exploding.length - missed.length) / exploding.length : 1,
    missed,
    leads: leads.sort((a, b) => a - b),
    medianLead: median(leads),
    cleanPeers: [...cleanPeers],
    leadsOverBestCleanPeer: over.sort((a, b) => a - b),
    medianLeadOverBestCleanPeer: median(over),
  };
}

export async function scoreSplit(
  filter: (run: ManifestRun) => boolean,
  settings: Partial<DetectorSettings> = {},
  source: AlertSource = inProcess,
  dir = CORPUS_DIR,
): Promise<{ scores: RunScore[]; manifest: Manifest<Split> }> {
  const manifest = loadManifest<Split>(dir);
  const scores: RunScore[] = [];
  for (const [name, run] of Object.entries(manifest.runs).sort(([a], [b]) => a.localeCompare(b))) {
    if (!filter(run)) continue;
    scores.push(await scoreRun(name, run, settings, source, dir));
  }
  return { scores, manifest };
}

/** The figures of one split of a folder of runs, with the default settings: what the pinning tests read. */
export async function splitFigures(dir: string, which: 'dev' | 'sealed'): Promise<GroupFigures> {
  const { scores, manifest } = await scoreSplit((r) => r.split === which, {}, undefined, dir);
  return figures(scores, loadPeers(dir), manifest.runs);
}
