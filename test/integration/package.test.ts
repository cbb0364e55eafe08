// The extension as VS Code sees it: the manifest's promises, and a VSIX that holds only what runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/detect/settings';

const root = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

test('the manifest runs where the GPU is, activates lazily and contributes the Loss Radar surfaces', () => {
  assert.equal(manifest.name, 'loss-radar');
  assert.equal(manifest.displayName, 'Loss Radar');
  assert.equal(manifest.engines.vscode, '^1.90.0');
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  assert.ok(!manifest.activationEvents.includes('*'), 'no eager activation');
  const container = manifest.contributes.viewsContainers.activitybar[0];
  assert.equal(container.title, 'Loss Radar');
  const views = manifest.contributes.views[container.id];
  assert.deepEqual(views.map((v: { id: string }) => v.id), ['lossradar.live', 'lossradar.runs']);
  assert.equal(views[0].type, 'webview');
  const titles = manifest.contributes.commands.filter((c: { category: string }) => c.category === 'Loss Radar').map((c: { title: string }) => c.title);
  for (const t of ['Launch Experiment', 'Stop Run', 'Open Run Dashboard', 'Open Logs…', 'Start Hub']) assert.ok(titles.includes(t), t);
  const settings = Object.keys(manifest.contributes.configuration.properties);
  for (const s of ['lossradar.hub.port', 'lossradar.runsFolder', 'lossradar.notify.firstWarning', 'lossradar.metrics.loss', 'lossradar.metrics.lr']) assert.ok(settings.includes(s), s);
});

test('the VSIX holds the bundles, media and manifest, and no sources, tests, maps or node_modules', () => {
  const listing = execFileSync(path.join(root, 'node_modules', '.bin', 'vsce'), ['ls', '--no-dependencies'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .split('\n')
    .filter(Boolean);
  for (const f of ['package.json', 'dist/extension.js', 'dist/cli.js', 'dist/webview/live.js', 'media/radar.svg', 'protocol/wire.schema.json']) {
    assert.ok(listing.includes(f), `${f} is packaged`);
  }
  const stray = listing.filter((f) => /^(src|test|bench|scripts|webview|node_modules)\/|\.map$|\.ts$/.test(f));
  assert.deepEqual(stray, []);
});

test('the VSIX ships the SDK with its integrations and the reference trainer from dist/python', () => {
  // `npm run package` fills dist/python with trainer/vendor.py (lossradar, lossradar_trainer, websockets):
  // the same two packages copied into a scratch folder beside the manifest show what .vscodeignore lets in.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lossradar-vsix-'));
  try {
    for (const f of ['package.json', '.vscodeignore', 'README.md', 'LICENSE']) cpSync(path.join(root, f), path.join(dir, f));
    for (const pkg of ['lossradar', 'lossradar_trainer']) {
      cpSync(path.join(root, 'trainer', pkg), path.join(dir, 'dist', 'python', pkg), { recursive: true, filter: (src) => !src.includes('__pycache__') });
    }
    cpSync(path.join(root, 'trainer', 'lossradar'), path.join(dir, 'trainer', 'lossradar'), { recursive: true });
    const listing = execFileSync(path.join(root, 'node_modules', '.bin', 'vsce'), ['ls', '--no-dependencies'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')
      .filter(Boolean);
    for (const f of [
      'dist/python/lossradar/__init__.py',
      'dist/python/lossradar/integrations/transformers.py',
      'dist/python/lossradar/integrations/lightning.py',
      'dist/python/lossradar/integrations/accelerate.py',
      'dist/python/lossradar_trainer/train.py',
      'dist/python/lossradar_trainer/experiments/lm-diverge.json',
    ]) {
      assert.ok(listing.includes(f), `${f} is packaged`);
    }
    assert.deepEqual(listing.filter((f) => f.startsWith('trainer/')), [], 'the sources stay out');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every detector threshold is a VS Code setting with the detectors’ own default', () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/sync-settings.ts', '--check'], { cwd: root, stdio: 'pipe' });
  for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) assert.equal(manifest.contributes.configuration.properties[`lossradar.detect.${key}`].default, value, key);
});

test('experiment files get IntelliSense from the generated schema', () => {
  const [rule] = manifest.contributes.jsonValidation;
  assert.equal(rule.fileMatch, '.lossradar/experiments/*.json');
  const schema = JSON.parse(readFileSync(path.join(root, rule.url), 'utf8'));
  assert.equal(schema.title, 'Loss Radar experiment');
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/wire-schema.ts', '--check'], { cwd: root, stdio: 'pipe' });
});
