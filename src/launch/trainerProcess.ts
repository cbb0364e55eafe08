// A launched trainer: its own process group (so stopping it stops its workers too), its output in
// the run's output.log, and a stop that escalates SIGINT → SIGTERM → SIGKILL. Plain Node.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where stdout and stderr are appended; none when omitted. */
  outputLog?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (a missing interpreter, say). */
  error?: string;
}

export interface TrainerProcessEvents {
  output: [stream: 'stdout' | 'stderr', text: string];
  exit: [info: ExitInfo];
}

export class TrainerProcess extends EventEmitter<TrainerProcessEvents> {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream | undefined;
  private stderrTail = '';
  private done = false;

  constructor(readonly spec: LaunchSpec) {
    super();
    this.log = spec.outputLog ? createWriteStream(spec.outputLog, { flags: 'a' }) : undefined;
    this.child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise((resolve) => {
      const finish = (info: ExitInfo) => {
        if (this.done) return;
        this.done = true;
        this.log?.end();
        this.emit('exit', info);
        resolve(info);
      };
      this.child.once('error', (err) => finish({ code: null, signal: null, error: `cannot start ${spec.command}: ${err.message}` }));
      this.child.once('close', (code, signal) => finish({ code, signal }));
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.log?.write(text);
        if (stream === 'stderr') this.stderrTail = (this.stderrTail + text).slice(-8192);
        this.emit('output', stream, text);
      });
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** The last lines the trainer wrote to stderr: what a crash alert shows. */
  lastStderrLines(n: number): string[] {
    return this.stderrTail.split('\n').filter((l) => l.trim() !== '').slice(-n);
  }

  /** SIGINT (the trainer's KeyboardInterrupt: it can finish cleanly), SIGTERM after `graceMs`, then SIGKILL to the whole group. */
  async stop(graceMs = 5000): Promise<ExitInfo> {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      if (this.done) break;
      this.signalGroup(signal);
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), signal === 'SIGKILL' ? 10_000 : graceMs).unref());
      if ((await Promise.race([this.exited, timeout])) !== 'timeout') break;
    }
    return this.exited;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}
