// The command line answers like any Unix tool: --help gives a command's usage and exit 0; a usage
// error names the flag and exits 2; and the Node tier itself fails on a stray rejection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CLI, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tmp';

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });

test('every command answers --help and -h with its usage and exit 0', () => {
  for (const command of ['serve', 'detect', 'run']) {
    for (const flag of ['--help', '-h']) {
      const r = cli(command, flag);
      assert.equal(r.status, 0, `${command} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage:\\n  lossradar ${command} `), `${command} ${flag}`);
    }
  }
  const top = cli('--help');
  assert.equal(top.status, 0);
  for (const command of ['serve', 'detect', 'run']) assert.match(top.stdout, new RegExp(`lossradar ${command} `));
  assert.match(cli('help', 'detect').stdout, /^usage:\n {2}lossradar detect FILE/);
});

test('a usage error names the flag, shows the command’s usage and exits 2', () => {
  const missing = cli('detect', '--format');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^lossradar: Option '--format <value>' argument missing\nusage:\n {2}lossradar detect /);
  const unknown = cli('serve', '--prot', '80');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--prot'/);
  assert.equal(cli('frobnicate').status, 2);
});

test('a flag’s value may begin with a dash (a token does, one time in 32)', async () => {
  const { dir, cleanup } = tempDir();
  const hub = await startServe(['--runs', dir, '--token', '-starts-with-a-dash']);
  assert.equal(hub.token, '-starts-with-a-dash');
  assert.equal(await hub.stop(), 0);
  cleanup();
});

test('the Node tier fails on an unhandled rejection even when every assertion passed', () => {
  const fixture = path.resolve(__dirname, '..', 'fixtures', 'leaky', 'leaks.test.ts');
  // A test file runs with NODE_TEST_CONTEXT set, which would make the nested runner report to us
  // instead of judging its own file.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', fixture], { encoding: 'utf8', timeout: 60_000, env });
  assert.notEqual(r.status, 0, r.stdout);
  assert.match(r.stdout, /bad run id "\.\.\/escape"/);
});
