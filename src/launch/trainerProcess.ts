// A launched trainer: its own process group (so stopping it stops its workers too), its output in
// the run's output.log, and a stop that escalates SIGINT → SIGTERM → SIGKILL. Plain Node.
// With an output log, stdout and stderr go straight to that file rather than through a pipe: a
// trainer then outlives a reload of the window that launched it (a pipe to a dead extension host
// would kill it with EPIPE at its next print), and the run re-attaches to the restarted hub.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readSync, statSync, watchFile, unwatchFile } from 'node:fs';

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
  private stderrTail = '';
  private done = false;
  private logOffset = 0;

  constructor(readonly spec: LaunchSpec) {
    super();
    let fd: number | undefined;
    if (spec.outputLog) {
      fd = openSync(spec.outputLog, 'a');
      this.logOffset = statSync(spec.outputLog).size;
    }
    const stdio: ('ignore' | 'pipe' | number)[] = fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd];
    this.child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio, detached: true });
    if (fd !== undefined) closeSync(fd);
    const log = spec.outputLog;
    if (log) watchFile(log, { interval: 200 }, () => this.readLog(log));
    this.exited = new Promise((resolve) => {
      const finish = (info: ExitInfo) => {
        if (this.done) return;
        this.done = true;
        if (log) {
          unwatchFile(log);
          this.readLog(log);
        }
        this.emit('exit', info);
        resolve(info);
      };
      this.child.once('error', (err) => finish({ code: null, signal: null, error: `cannot start ${spec.command}: ${err.message}` }));
      this.child.once('close', (code, signal) => finish({ code, signal }));
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]?.on('data', (chunk: Buffer) => this.take(stream, chunk.toString('utf8')));
    }
  }

  private take(stream: 'stdout' | 'stderr', text: string): void {
    if (stream === 'stderr' || this.spec.outputLog) this.stderrTail = (this.stderrTail + text).slice(-8192);
    this.emit('output', stream, text);
  }

  /** New bytes of the output log since the last read (stdout and stderr are one stream there). */
  private readLog(file: string): void {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.logOffset);
        if (n <= 0) break;
        this.logOffset += n;
        this.take('stdout', buf.subarray(0, n).toString('utf8'));
      }
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** The last lines the trainer wrote to stderr (to its output, with a log): what a crash alert shows. */
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
