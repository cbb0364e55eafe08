// `node dist/cli.js serve` end to end: a separate process, a real client, rows on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseJsonLines } from '../../src/store/jsonLines';
import { readHubs } from '../../src/discovery/discovery';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { CLI, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tmp';

test('the CLI is built', () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
});

test('serve prints its URL and token, stores a client’s rows, and flushes on SIGTERM', async () => {
  const { dir, cleanup } = tempDir();
  const hub = await startServe(['--port', '0', '--runs', dir]);
  assert.match(hub.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(hub.token.length >= 32);
  const t = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await t.hello('cli');
  const ack = t.next('ack');
  t.send({ type: 'scalars', seq: 0, rows: [...rows(0, 99), { step: 99, values: { loss: 'NaN' } }] });
  assert.equal((await ack).seq, 99);
  t.send({ type: 'scalars', seq: 100, rows: rows(100, 5) }); // not yet flushed when the hub is stopped
  t.send({ type: 'end', status: 'completed', error: null });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await hub.stop('SIGTERM'), 0);
  const disk = parseJsonLines<{ step: number; loss: unknown }>(readFileSync(path.join(dir, runId, 'metrics.jsonl'), 'utf8')).items;
  assert.equal(disk.length, 105);
  assert.equal(disk[99].loss, 'NaN');
  const meta = JSON.parse(readFileSync(path.join(dir, runId, 'meta.json'), 'utf8'));
  assert.equal(meta.status, 'completed');
  // The NaN loss at step 99 fired a critical alert, printed and stored with the run.
  const printed = hub.lines.map((l) => JSON.parse(l));
  assert.deepEqual([printed[0].runId, printed[0].alert.kind, printed[0].alert.severity, printed[0].alert.step], [runId, 'nonfinite', 'critical', 99]);
  const stored = parseJsonLines<{ id: string }>(readFileSync(path.join(dir, runId, 'alerts.jsonl'), 'utf8')).items;
  assert.deepEqual(stored.map((a) => a.id), printed.map((p) => p.alert.id));
  assert.match(hub.stderr(), new RegExp(`started run ${runId}`));
  cleanup();
});

test('serve restarted on the same port and token resumes the run where it stopped', async () => {
  const { dir, cleanup } = tempDir();
  const first = await startServe(['--runs', dir]);
  const port = new URL(first.url).port;
  const a = await TestTrainer.connect(first.url, first.token);
  const { runId } = await a.hello('restart');
  const ack = a.next('ack');
  a.send({ type: 'scalars', seq: 0, rows: rows(0, 10) });
  await ack;
  await first.stop('SIGKILL');
  const second = await startServe(['--runs', dir, '--port', port, '--token', first.token]);
  const b = await TestTrainer.connect(second.url, first.token);
  const welcome = await b.hello('restart', { runId });
  assert.deepEqual([welcome.runId, welcome.lastSeq], [runId, 9]);
  await b.close();
  await second.stop();
  cleanup();
});

test('serve --folder publishes a discovery entry readable by its user alone, removed on exit', async () => {
  const { dir, cleanup } = tempDir();
  const discovery = path.join(dir, 'hubs');
  const hub = await startServe(['--runs', path.join(dir, 'runs'), '--folder', dir, '--discovery-dir', discovery]);
  const entries = await readHubs(discovery);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].url, hub.url);
  assert.deepEqual(entries[0].folders, [dir]);
  const file = path.join(discovery, readdirSync(discovery)[0]);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(discovery).mode & 0o777, 0o700);
  await hub.stop();
  assert.deepEqual(readdirSync(discovery), []);
  cleanup();
});

test('a bad flag is a usage error with exit code 2', async () => {
  await assert.rejects(startServe(['--port', 'eighty']), /--port: expected a non-negative integer, got "eighty"/);
});
