// code-server 4.139.1 (VS Code 1.139) with the packaged VSIX installed into a fresh extensions
// folder, a temporary user-data folder and a copy of the e2e workspace (design.md §8).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface CodeServer {
  url: string;
  workspace: string;
  runsDir: string;
  stop(): Promise<void>;
}

const root = path.resolve(__dirname, '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startCodeServer(cache: string, python: string): Promise<CodeServer> {
  const node24 = path.join(cache, 'node24', 'node_modules', 'node', 'bin');
  const bin = path.join(cache, 'cs', 'node_modules', '.bin', 'code-server');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lossradar-e2e-'));
  const userData = path.join(tmp, 'user-data');
  const extensions = path.join(tmp, 'extensions');
  const workspace = path.join(tmp, 'workspace');
  cpSync(path.join(__dirname, 'workspace'), workspace, { recursive: true });
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'lossradar.pythonPath': python,
      // `python train.py` in the terminal is the venv's python, as a user's activated environment would be.
      'terminal.integrated.env.linux': { PATH: `${path.dirname(python)}:${process.env.PATH}` },
      // The terminal's suggestion widget takes the Enter that should run a typed command.
      'terminal.integrated.suggest.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'window.commandCenter': false,
      'chat.disableAIFeatures': true,
    }),
  );
  const env = { ...process.env, PATH: `${node24}:${process.env.PATH}`, LOSSRADAR_DISCOVERY_DIR: path.join(tmp, 'hubs') };
  execFileSync(bin, ['--install-extension', path.join(root, 'loss-radar.vsix'), '--extensions-dir', extensions, '--user-data-dir', userData], { env, stdio: 'pipe' });
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', extensions, workspace],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (log.includes('HTTP server listening')) break;
    if (child.exitCode !== null) throw new Error(`code-server exited: ${log}`);
    if (Date.now() > deadline) throw new Error(`code-server did not start in 60 s: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    workspace,
    runsDir: path.join(workspace, '.lossradar', 'runs'),
    // code-server starts helper processes (file watcher, agent host): stop the whole group.
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    },
  };
}
