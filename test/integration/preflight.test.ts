import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { preflight } from '../../src/launch/preflight';
import { tempDir } from '../helpers/tmp';

test('a missing interpreter is named, with where to fix it', async () => {
  const r = await preflight('/nonexistent/python3');
  assert.deepEqual(r.ok ? null : r.problem, 'missing-interpreter');
  assert.match(r.ok ? '' : r.message, /"\/nonexistent\/python3" was not found \(ENOENT\)/);
});

test('an interpreter without torch gets the pip command that fixes it', async () => {
  // The system python3 of this machine has no torch (the SDK's tests use a separate venv).
  const { dir, cleanup } = tempDir();
  const fake = path.join(dir, 'python');
  writeFileSync(fake, `#!/bin/sh\nexec python3 -S -c 'import sys; sys.path=[p for p in sys.path if "site-packages" not in p]; import torch'\n`);
  chmodSync(fake, 0o755);
  const r = await preflight(fake);
  assert.equal(r.ok ? null : r.problem, 'missing-torch');
  assert.match(r.ok ? '' : r.message, /-m pip install torch$/);
  cleanup();
});
