import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pickHub, publishHub, readHubs, type DiscoveryEntry } from '../../src/discovery/discovery';
import { tempDir } from '../helpers/tmp';

const entry = (folders: string[], pid = process.pid, port = 1): DiscoveryEntry => ({ url: `ws://127.0.0.1:${port}`, token: 't', pid, folders, startedAt: 0 });

test('the hub whose folder holds the working directory is picked, the deepest folder winning', () => {
  const outer = entry(['/home/me'], 1, 1);
  const inner = entry(['/home/me/project'], 1, 2);
  assert.equal(pickHub([outer, inner], '/home/me/project/notebooks'), inner);
  assert.equal(pickHub([outer, inner], '/home/me/other'), outer);
  assert.equal(pickHub([outer, inner], '/home/mean'), undefined, 'a prefix of the name is not a parent folder');
  assert.equal(pickHub([outer, inner], '/srv'), undefined);
});

test('entries of closed windows are ignored, and a removed entry is gone', async () => {
  const { dir, cleanup } = tempDir();
  const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
  const remove = await publishHub(dir, entry([dir], process.pid, 10));
  await publishHub(dir, entry([dir], dead, 11));
  const live = await readHubs(dir);
  assert.deepEqual(live.map((e) => e.url), ['ws://127.0.0.1:10']);
  await remove();
  assert.deepEqual(await readHubs(dir), []);
  assert.deepEqual(await readHubs(path.join(dir, 'missing')), []);
  cleanup();
});
