// The environment a launched trainer gets: how to reach the hub, which run it is, and the SDK that
// ships with the extension on its PYTHONPATH (so nothing but torch needs installing).
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The SDK copy the VSIX ships (dist/python: lossradar, and lossradar_trainer, the reference trainer), or the
 * repository's trainer/ (the same two packages) when running from source. */
export function sdkPath(extensionRoot: string): string {
  const shipped = path.join(extensionRoot, 'dist', 'python');
  return existsSync(path.join(shipped, 'lossradar')) ? shipped : path.join(extensionRoot, 'trainer');
}

export function trainerEnv(base: NodeJS.ProcessEnv, hub: { url: string; token: string }, runId: string, sdk: string): NodeJS.ProcessEnv {
  const pythonPath = [sdk, base.PYTHONPATH].filter(Boolean).join(path.delimiter);
  return {
    ...base,
    LOSSRADAR_URL: hub.url,
    LOSSRADAR_TOKEN: hub.token,
    LOSSRADAR_RUN_ID: runId,
    PYTHONPATH: pythonPath,
    PYTHONUNBUFFERED: '1',
  };
}
