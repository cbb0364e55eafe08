// `npm run eval:detect`: replays every run under test/fixtures/runs/ through Loss Radar's detectors
// (`node dist/cli.js detect FILE --format json`) and through each peer of design.md §5
// (`eval/peers.py`), and compares them with the loss-only labels of test/fixtures/runs/labels.json
// (eval/README.md). Prints a table and the totals, and writes the same to
// test-results/eval-detect.json. Exits 0 whatever the figures (the targets are checked by tests);
// non-zero only when something could not run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixturesDir = path.join(root, 'test', 'fixtures', 'runs');
const cli = path.join(root, 'dist', 'cli.js');
const outFile = path.join(root, 'test-results', 'eval-detect.json');
const PEERS = ['lightning', 'llm-foundry', 'olmo-core', 'megatron', 'trainpulse', 'trainscope'] as const;

interface LabelEntry {
  label: 'healthy' | 'explode' | 'stall' | 'spike-recover';
  onset: number | null;
  mechanism?: string;
  command?: string;
}

interface LrAlert {
  id: string;
  kind: string;
  severity: 'warning' | 'critical';
  step: number;
  metric: string;
  message: string;
  state: 'open' | 'closed';
}

interface PeerHit {
  step: number;
  rule: string;
}

interface PeersLine {
  run: string;
  rows: number;
  last_step: number | null;
  peers: Record<string, PeerHit | null>;
  other: Record<string, PeerHit>;
  label: { label: string; onset: number | null };
}

interface FirstAlert {
  step: number;
  kind: string;
  metric: string;
  severity: string;
  lead: number | null;
}

interface RunResult {
  run: string;
  label: LabelEntry['label'];
  onset: number | null;
  mechanism: string | null;
  rows: number;
  lastStep: number | null;
  lossradar: {
    firstAlert: FirstAlert | null;
    firstWarning: FirstAlert | null;
    firstCritical: FirstAlert | null;
    alerts: number;
    kinds: string[];
    warnedBeforeOnset: boolean;
  };
  peers: Record<string, { step: number; rule: string; lead: number | null } | null>;
  peersOther: Record<string, PeerHit>;
  bestPeer: { name: string | null; lead: number } | null;
  lossradarLeadForComparison: number | null;
  bestPeerLeadForComparison: number | null;
  leadOverBestPeer: number | null;
}

class EvalError extends Error {}

function fail(message: string): never {
  throw new EvalError(message);
}

function loadLabels(): Record<string, LabelEntry> {
  const file = path.join(fixturesDir, 'labels.json');
  if (!existsSync(file)) fail(`no ${path.relative(root, file)}: generate the fixtures first (eval/README.md)`);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, LabelEntry>;
}

function runFile(name: string): string {
  for (const ext of ['.jsonl.gz', '.jsonl']) {
    const f = path.join(fixturesDir, name + ext);
    if (existsSync(f)) return f;
  }
  return fail(`labels.json names ${name}, but there is no ${name}.jsonl.gz in ${path.relative(root, fixturesDir)}`);
}

function lossRadar(file: string): LrAlert[] {
  if (!existsSync(cli)) fail(`${path.relative(root, cli)} is missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [cli, 'detect', file, '--format', 'json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) fail(`cannot run ${cli}: ${r.error.message}`);
  if (r.status !== 0 && r.status !== 1) {
    fail(
      `\`node dist/cli.js detect ${path.relative(root, file)} --format json\` exited with ${r.status ?? r.signal}` +
        ` (expected 0 or 1; is \`lossradar detect\` built into dist/cli.js?)\n${(r.stderr || r.stdout).slice(0, 2000)}`,
    );
  }
  const alerts: LrAlert[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    let a: LrAlert;
    try {
      a = JSON.parse(line) as LrAlert;
    } catch {
      fail(`lossradar detect printed a line that is not JSON on ${path.basename(file)}: ${line.slice(0, 200)}`);
    }
    if (typeof a.step !== 'number' || (a.severity !== 'warning' && a.severity !== 'critical')) {
      fail(`lossradar detect printed an alert without step/severity on ${path.basename(file)}: ${line.slice(0, 200)}`);
    }
    alerts.push(a);
  }
  return alerts;
}

function python(): string {
  const fromEnv = process.env.LOSSRADAR_PYTHON;
  if (fromEnv) return fromEnv;
  const r = spawnSync('bash', [path.join(root, 'scripts', 'python-env.sh')], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) fail(`scripts/python-env.sh failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  const venv = r.stdout.trim().split('\n').pop() ?? '';
  const py = path.join(venv, 'bin', 'python');
  if (!existsSync(py)) fail(`scripts/python-env.sh printed ${venv}, which has no bin/python`);
  return py;
}

function peers(files: string[]): Map<string, PeersLine> {
  const r = spawnSync(python(), [path.join(root, 'eval', 'peers.py'), ...files, '--format', 'json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) fail(`cannot run eval/peers.py: ${r.error.message}`);
  if (r.status !== 0) fail(`eval/peers.py exited with ${r.status ?? r.signal}:\n${r.stderr.slice(-3000)}`);
  const out = new Map<string, PeersLine>();
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as PeersLine;
    out.set(p.run, p);
  }
  return out;
}

function firstOf(alerts: LrAlert[], onset: number | null, severity?: 'warning' | 'critical'): FirstAlert | null {
  let best: LrAlert | null = null;
  for (const a of alerts) {
    if (a.state === 'closed') continue;
    if (severity && a.severity !== severity) continue;
    if (!best || a.step < best.step) best = a;
  }
  if (!best) return null;
  return {
    step: best.step,
    kind: best.kind,
    metric: best.metric,
    severity: best.severity,
    lead: onset === null ? null : onset - best.step,
  };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

function main(): void {
  const labels = loadLabels();
  const names = Object.keys(labels).sort();
  if (names.length === 0) fail('labels.json lists no runs');
  const unlabelled = readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.jsonl.gz') && !(f.slice(0, -'.jsonl.gz'.length) in labels))
    .sort();
  const files = names.map(runFile);

  const t0 = Date.now();
  const lr = new Map<string, LrAlert[]>();
  for (let i = 0; i < names.length; i++) lr.set(names[i], lossRadar(files[i]));
  const tLr = Date.now() - t0;
  const pr = peers(files);
  const tPeers = Date.now() - t0 - tLr;

  const runs: RunResult[] = [];
  const warnings: string[] = [];
  for (const name of names) {
    const lab = labels[name];
    const p = pr.get(name) ?? fail(`eval/peers.py gave no result for ${name}`);
    if (p.label.label !== lab.label || p.label.onset !== lab.onset) {
      warnings.push(
        `${name}: labels.json says ${lab.label}/${lab.onset}, eval/label.py now says ${p.label.label}/${p.label.onset}`,
      );
    }
    const onset = lab.label === 'explode' ? lab.onset : null;
    const alerts = lr.get(name) ?? [];
    const endStep = (p.last_step ?? 0) + 1; // "alerted just after the run ended" for a silent detector
    const lrFirst = firstOf(alerts, onset);
    const peerOut: Record<string, { step: number; rule: string; lead: number | null } | null> = {};
    let bestPeer: { name: string; lead: number } | null = null;
    for (const peer of PEERS) {
      const hit = p.peers[peer] ?? null;
      peerOut[peer] = hit ? { ...hit, lead: onset === null ? null : onset - hit.step } : null;
      if (onset !== null && hit && (!bestPeer || onset - hit.step > bestPeer.lead)) {
        bestPeer = { name: peer, lead: onset - hit.step };
      }
    }
    let leadOverBestPeer: number | null = null;
    let lrLeadForCompare: number | null = null;
    let bestPeerLead: number | null = null;
    if (onset !== null) {
      lrLeadForCompare = lrFirst ? onset - lrFirst.step : onset - endStep;
      bestPeerLead = bestPeer ? bestPeer.lead : onset - endStep;
      leadOverBestPeer = lrLeadForCompare - bestPeerLead;
    }
    runs.push({
      run: name,
      label: lab.label,
      onset: lab.onset,
      mechanism: lab.mechanism ?? null,
      rows: p.rows,
      lastStep: p.last_step,
      lossradar: {
        firstAlert: lrFirst,
        firstWarning: firstOf(alerts, onset, 'warning'),
        firstCritical: firstOf(alerts, onset, 'critical'),
        alerts: alerts.filter((a) => a.state !== 'closed').length,
        kinds: [...new Set(alerts.filter((a) => a.state !== 'closed').map((a) => `${a.severity}:${a.kind}`))].sort(),
        warnedBeforeOnset: onset !== null && lrFirst !== null && lrFirst.step < onset,
      },
      peers: peerOut,
      peersOther: p.other,
      bestPeer: bestPeer ?? (onset !== null ? { name: null, lead: onset - endStep } : null),
      lossradarLeadForComparison: lrLeadForCompare,
      bestPeerLeadForComparison: bestPeerLead,
      leadOverBestPeer,
    });
  }

  // ---- totals
  const exploding = runs.filter((r) => r.label === 'explode');
  const healthy = runs.filter((r) => r.label === 'healthy');
  const recallPeers: Record<string, { hits: number; total: number }> = {};
  const falsePeers: Record<string, { runs: string[] }> = {};
  for (const peer of PEERS) {
    recallPeers[peer] = {
      hits: exploding.filter((r) => r.peers[peer] && r.onset !== null && r.peers[peer]!.step < r.onset).length,
      total: exploding.length,
    };
    falsePeers[peer] = { runs: healthy.filter((r) => r.peers[peer]).map((r) => r.run) };
  }
  const diffs = exploding.map((r) => r.leadOverBestPeer).filter((x): x is number => x !== null);
  // Supplementary: the same against only the peers that never alerted on a healthy run (a peer that
  // fires on noise also "leads" on exploding runs; this view discounts that).
  const quietPeers = PEERS.filter((p) => falsePeers[p].runs.length === 0);
  const quietDiffs: number[] = [];
  for (const r of exploding) {
    if (r.onset === null || r.lossradarLeadForComparison === null) continue;
    const end = (r.lastStep ?? 0) + 1;
    let best = r.onset - end;
    for (const p of quietPeers) {
      const h = r.peers[p];
      if (h && h.lead !== null) best = Math.max(best, h.lead);
    }
    quietDiffs.push(r.lossradarLeadForComparison - best);
  }
  const totals = {
    runs: runs.length,
    byLabel: Object.fromEntries(
      ['explode', 'healthy', 'stall', 'spike-recover'].map((l) => [l, runs.filter((r) => r.label === l).length]),
    ),
    recall: {
      lossradar: {
        hits: exploding.filter((r) => r.lossradar.warnedBeforeOnset).length,
        total: exploding.length,
        missed: exploding.filter((r) => !r.lossradar.warnedBeforeOnset).map((r) => r.run),
      },
      peers: recallPeers,
    },
    falseAlarmsOnHealthy: {
      total: healthy.length,
      lossradar: {
        anyAlert: healthy.filter((r) => r.lossradar.firstAlert).map((r) => r.run),
        warning: healthy.filter((r) => r.lossradar.firstWarning).map((r) => r.run),
        critical: healthy.filter((r) => r.lossradar.firstCritical).map((r) => r.run),
      },
      peers: falsePeers,
    },
    medianLeadOverBestPeer: median(diffs),
    quietPeers,
    medianLeadOverBestQuietPeer: median(quietDiffs),
    notLeading: exploding.filter((r) => r.leadOverBestPeer !== null && r.leadOverBestPeer <= 0).map((r) => r.run),
  };

  // ---- print
  const fmtA = (a: FirstAlert | null): string => (a ? `${a.step} ${a.kind}` : '-');
  const fmtLead = (x: number | null | undefined): string => (x === null || x === undefined ? '' : `${x >= 0 ? '+' : ''}${x}`);
  const lines: string[] = [];
  const head =
    pad('run', 30) + pad('label', 14) + pad('onset', 7) + pad('LR warning', 26) + pad('LR critical', 24) + pad('lead', 7) +
    PEERS.map((p) => pad(p, 15)).join('') + 'vs best';
  lines.push(head, '-'.repeat(head.length));
  for (const r of runs) {
    const lead = r.lossradar.firstAlert?.lead ?? null;
    lines.push(
      pad(r.run, 30) +
        pad(r.label, 14) +
        pad(r.onset === null ? '-' : String(r.onset), 7) +
        pad(fmtA(r.lossradar.firstWarning), 26) +
        pad(fmtA(r.lossradar.firstCritical), 24) +
        pad(fmtLead(lead), 7) +
        PEERS.map((p) => {
          const h = r.peers[p];
          return pad(h ? `${h.step}${h.lead !== null ? ` (${fmtLead(h.lead)})` : ''}` : '-', 15);
        }).join('') +
        fmtLead(r.leadOverBestPeer),
    );
  }
  lines.push('');
  const rl = totals.recall.lossradar;
  lines.push(`exploding runs: ${rl.total}; Loss Radar warned before the onset on ${rl.hits}/${rl.total}` + (rl.missed.length ? ` (missed: ${rl.missed.join(', ')})` : ''));
  lines.push(
    '  peers alerting before the onset: ' + PEERS.map((p) => `${p} ${recallPeers[p].hits}/${recallPeers[p].total}`).join(', '),
  );
  const fh = totals.falseAlarmsOnHealthy;
  lines.push(
    `healthy runs: ${fh.total}; Loss Radar alerted on ${fh.lossradar.anyAlert.length} (warning on ${fh.lossradar.warning.length}, critical on ${fh.lossradar.critical.length})` +
      (fh.lossradar.anyAlert.length ? `: ${fh.lossradar.anyAlert.join(', ')}` : ''),
  );
  lines.push('  peers alerting on healthy runs: ' + PEERS.map((p) => `${p} ${falsePeers[p].runs.length}`).join(', '));
  lines.push(
    `median over exploding runs of (Loss Radar's lead - best peer's lead): ${totals.medianLeadOverBestPeer ?? '-'} steps` +
      (totals.notLeading.length ? `; not leading on: ${totals.notLeading.join(', ')}` : ''),
  );
  lines.push(
    `  (supplementary) the same against the peers quiet on every healthy run [${quietPeers.join(', ') || 'none'}]: ` +
      `${totals.medianLeadOverBestQuietPeer ?? '-'} steps`,
  );
  if (unlabelled.length) lines.push(`note: not in labels.json, not evaluated: ${unlabelled.join(', ')}`);
  for (const w of warnings) lines.push(`WARNING: ${w}`);
  lines.push(`(Loss Radar ${(tLr / 1000).toFixed(1)} s, peers ${(tPeers / 1000).toFixed(1)} s)`);
  console.log(lines.join('\n'));

  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        fixtures: path.relative(root, fixturesDir),
        definitions: {
          lead: 'onset - step of the first alert (positive: before the onset)',
          lossradarFirstAlert: 'earliest opened alert of either severity from `lossradar detect`',
          recall: 'exploding runs whose first alert is strictly before the onset',
          falseAlarm: 'any alert at all on a healthy run (Loss Radar: also split by severity)',
          medianLeadOverBestQuietPeer:
            'the same median, against only the peers that raised no alert on any healthy run (supplementary)',
          leadOverBestPeer:
            "Loss Radar's lead minus the largest lead among the peers; a detector that never alerted counts as alerting at last step + 1",
        },
        totals,
        labelWarnings: warnings,
        unlabelled,
        runs,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${path.relative(root, outFile)}`);
}

try {
  main();
} catch (e) {
  if (e instanceof EvalError) {
    console.error(`eval:detect: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
