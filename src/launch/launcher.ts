// Launches trainers against the hub and follows them to their end. Plain Node: the palette command
// and `lossradar run` both use it.
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Hub } from '../hub/hub';
import type { RunStore } from '../store/runStore';
import type { CommandLine } from './experiments';
import { trainerEnv } from './trainerEnv';
import { TrainerProcess, type ExitInfo } from './trainerProcess';

export interface LauncherEvents {
  output: [runId: string, stream: 'stdout' | 'stderr', text: string];
  /** The trainer's process ended; `crashed` when it did not end its run itself. */
  exited: [runId: string, exit: ExitInfo, crashed: boolean, lastStderr: string[]];
}

export class Launcher extends EventEmitter<LauncherEvents> {
  private readonly running = new Map<string, TrainerProcess>();
  /** Runs the user asked to stop: however the trainer ends then (a KeyboardInterrupt traceback, a signal), the run was stopped. */
  private readonly stopping = new Set<string>();

  constructor(
    private readonly hub: Hub,
    private readonly store: RunStore,
    private readonly sdkDir: string,
  ) {
    super();
  }

  isLaunched(runId: string): boolean {
    return this.running.has(runId);
  }

  /** Creates the run (so its folder holds output.log from the first line) and starts the trainer. */
  async launch(name: string, cmd: CommandLine, config: Record<string, unknown> = {}): Promise<string> {
    const runId = this.store.newRunId(name);
    const { run } = await this.store.open({ id: runId, name, config: { ...config, command: [cmd.command, ...cmd.args], cwd: cmd.cwd } });
    const trainer = new TrainerProcess({
      command: cmd.command,
      args: cmd.args,
      cwd: cmd.cwd,
      env: trainerEnv({ ...process.env, ...cmd.env }, this.hub, runId, this.sdkDir),
      outputLog: path.join(run.dir, 'output.log'),
    });
    this.running.set(runId, trainer);
    // The meta file retries a write the disk refused: the launch goes on either way.
    run.updateMeta({ pid: trainer.pid ?? null, host: os.hostname() }).catch(() => undefined);
    trainer.on('output', (stream, text) => this.emit('output', runId, stream, text));
    void trainer.exited.then(async (exit) => {
      this.running.delete(runId);
      // The hub may have recorded the run as interrupted when its connection dropped; the exit
      // status of the process is better knowledge. The run itself maps any end to "stopped" once
      // Stop Run was asked (Run.requestStop).
      const open = run.meta.status === 'running' || run.meta.status === 'interrupted';
      const crashed = open && (exit.code !== 0 || exit.signal !== null || exit.error !== undefined);
      const lastStderr = exit.error ? [exit.error] : trainer.lastStderrLines(8);
      const stoppedByUs = this.stopping.delete(runId);
      const exitInfo = { exit: { code: exit.code, signal: exit.signal } };
      // Written before 'exited' is said, so whoever hears it reads the final status from disk too.
      if (open) {
        const error = crashed ? lastStderr.join('\n') || `exited with ${exit.code ?? exit.signal}` : null;
        await run.end(crashed ? 'failed' : 'completed', error, exitInfo);
      } else {
        await run.updateMeta(exitInfo).catch(() => undefined);
      }
      this.emit('exited', runId, exit, crashed && !stoppedByUs, lastStderr);
    });
    return runId;
  }

  /** A launched trainer: SIGINT, SIGTERM after `graceMs`, then its process tree is killed. Any other run: the SDK's stop command. */
  async stop(runId: string, graceMs = 5000): Promise<'signalled' | 'commanded' | 'not-running'> {
    const trainer = this.running.get(runId);
    if (trainer) {
      this.stopping.add(runId);
      await (await this.store.get(runId))?.requestStop().catch(() => undefined);
      await trainer.stop(graceMs);
      return 'signalled';
    }
    return this.hub.sendCommand(runId, 'stop') ? 'commanded' : 'not-running';
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id, 2000)));
  }
}
