// The metrics hub: a `ws` server on 127.0.0.1 that trainers stream into (design.md §2).
// Plain Node, no `vscode`: the extension and `lossradar serve` both run it.
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, type Capabilities, type Command, type Distribution, type EventFrame, type Reliability } from '../protocol/wire';
import type { RunStore } from '../store/runStore';
import type { MetricRow, Run } from '../store/run';
import { trainerGone } from '../store/meta';
import { checkUpgrade, newToken } from './auth';
import { RateLimitedLog } from './rateLimit';
import { Session } from './session';

export interface HubOptions {
  store: RunStore;
  port?: number;
  token?: string;
  /** Ping interval; a peer that misses one ping is dropped at the next (so within 2 intervals). */
  heartbeatMs?: number;
  /** A peer that lets this much of our output pile up unread is disconnected. */
  maxBufferedBytes?: number;
  /** When `port` is taken, listen on a free one instead of failing (a window reusing its last port). */
  fallbackToFreePort?: boolean;
  /** Keep trying a taken `port` this long first: after a reload the old hub may not have let go yet. */
  portRetryMs?: number;
  /** An authenticated connection that sends no hello within this is closed. */
  helloTimeoutMs?: number;
  /** Connections beyond this many are refused (503) before the WebSocket handshake. */
  maxConnections?: number;
  /**
   * A connection whose run has this much waiting for the disk is not read until half of it has
   * landed: TCP holds the trainer's frames (its SDK keeps them queued), and a flood cannot starve
   * the writes that would drain it.
   */
  pauseBacklogBytes?: number;
  /** Past this (frames already read while paused), the rest of the connection is refused (backpressure, 4507). */
  maxBacklogBytes?: number;
  /**
   * A run whose trainer went away without `end` is recorded as interrupted unless it comes back
   * within this (a trainer on this host whose process is gone is interrupted at once).
   */
  reconnectWindowMs?: number;
}

export interface HubEvents {
  session: [session: Session];
  runStarted: [run: Run, resumed: boolean];
  rows: [run: Run, rows: MetricRow[]];
  distribution: [run: Run, frame: Distribution | Reliability];
  /** A `run.event()`, as stored (with the time it arrived). */
  event: [run: Run, event: EventFrame & { time: number }];
  /** What a connected run's SDK can do changed (docs/rescue.md); also said by `runStarted`'s hello. */
  capabilities: [run: Run, capabilities: Capabilities];
  disconnected: [run: Run];
  problem: [message: string];
}

export class Hub extends EventEmitter<HubEvents> {
  readonly token: string;
  readonly store: RunStore;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  /** Which connection holds each run id: one writer per run (docs/protocol.md "run-busy"). */
  private readonly claims = new Map<string, Session>();
  private readonly awaitingReturn = new Map<string, NodeJS.Timeout>();
  private readonly refusals: RateLimitedLog;
  private readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
  readonly helloTimeoutMs: number;
  readonly maxConnections: number;
  readonly pauseBacklogBytes: number;
  readonly maxBacklogBytes: number;
  readonly reconnectWindowMs: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  private requestedPort: number;
  private readonly fallbackToFreePort: boolean;
  private readonly portRetryMs: number;

  constructor(options: HubOptions) {
    super();
    this.store = options.store;
    this.token = options.token ?? newToken();
    this.requestedPort = options.port ?? 0;
    this.fallbackToFreePort = options.fallbackToFreePort ?? false;
    this.portRetryMs = options.portRetryMs ?? 0;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
    this.maxConnections = options.maxConnections ?? 256;
    this.maxBacklogBytes = options.maxBacklogBytes ?? 64 * 1024 * 1024;
    this.pauseBacklogBytes = options.pauseBacklogBytes ?? Math.min(16 * 1024 * 1024, this.maxBacklogBytes / 2);
    this.reconnectWindowMs = options.reconnectWindowMs ?? 30_000;
    this.refusals = new RateLimitedLog((message) => this.emit('problem', message));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.http = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('Loss Radar hub: WebSocket only\n');
    });
    this.http.on('upgrade', (req, socket, head) => {
      const verdict = checkUpgrade(req, this.token);
      if (!verdict.ok) {
        const text = verdict.status === 401 ? 'Unauthorized' : 'Forbidden';
        socket.end(`HTTP/1.1 ${verdict.status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${verdict.reason}\n`);
        this.refusals.log(verdict.reason, `refused a connection: ${verdict.reason}`);
        return;
      }
      if (this.sessions.size >= this.maxConnections) {
        const reason = `${this.sessions.size} connections already (the limit); retry later`;
        socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
        this.refusals.log('http-503', `refused a connection: ${reason}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    this.http.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listens on 127.0.0.1 only: other machines on the network must never reach a trainer's hub. */
  async listen(): Promise<{ url: string; port: number }> {
    const deadline = Date.now() + this.portRetryMs;
    try {
      for (;;) {
        try {
          await this.listenOn(this.requestedPort);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } catch (err) {
      if (!this.fallbackToFreePort || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || this.requestedPort === 0) throw err;
      this.emit('problem', `port ${this.requestedPort} is taken; listening on a free port instead`);
      await this.listenOn(0);
    }
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
    return { url: this.url, port: this.port };
  }

  private listenOn(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, '127.0.0.1', () => {
        this.http.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get address(): string {
    return (this.http.address() as AddressInfo).address;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Runs with a trainer connected now. */
  liveRunIds(): string[] {
    return [...this.sessions].flatMap((s) => (s.run ? [s.run.id] : []));
  }

  sessionFor(runId: string): Session | undefined {
    for (const s of this.sessions) if (s.run?.id === runId) return s;
    return undefined;
  }

  /** Takes `runId` for `session`; false when another connection holds it. */
  claim(runId: string, session: Session): boolean {
    const holder = this.claims.get(runId);
    if (holder && holder !== session) return false;
    this.claims.set(runId, session);
    const waiting = this.awaitingReturn.get(runId);
    if (waiting) clearTimeout(waiting);
    this.awaitingReturn.delete(runId);
    return true;
  }

  release(runId: string, session: Session): void {
    if (this.claims.get(runId) === session) this.claims.delete(runId);
  }

  /**
   * A run's connection ended without `end`. A reconnect within the window resumes it; otherwise,
   * or as soon as its trainer's process is seen gone on this host, it is recorded as interrupted
   * (the views hear it from the store's `status`), so a killed script never stays "running".
   */
  watchForReturn(run: Run): void {
    if (this.closing || run.meta.status !== 'running' || this.claims.has(run.id) || this.awaitingReturn.has(run.id)) return;
    const deadline = Date.now() + this.reconnectWindowMs;
    const checkIn = (ms: number) => {
      const timer = setTimeout(check, ms);
      timer.unref();
      this.awaitingReturn.set(run.id, timer);
    };
    const check = () => {
      this.awaitingReturn.delete(run.id);
      if (this.closing || this.claims.has(run.id) || run.meta.status !== 'running') return;
      const gone = trainerGone(run.meta);
      if (!gone && Date.now() < deadline) return checkIn(Math.min(1000, Math.max(0, deadline - Date.now())));
      const why = gone
        ? `its trainer (pid ${run.meta.pid}) ended without finishing the run`
        : `its trainer disconnected without finishing the run and did not come back within ${Math.round(this.reconnectWindowMs / 1000)} s`;
      void run.end('interrupted', why);
    };
    // The kernel closes a killed process's socket before its parent reaps it: look again shortly.
    checkIn(Math.min(200, this.reconnectWindowMs));
  }

  /**
   * Sends a command to the run's trainer (`'stop'`, or one with its arguments: `{ command:
   * 'lower-lr', factor: 0.5 }`); false when it is not connected. A run asked to stop is recorded as
   * stopped however its script then ends it (it usually calls finish()).
   */
  sendCommand(runId: string, command: 'stop' | 'checkpoint' | Command): boolean {
    const session = this.sessionFor(runId);
    if (!session?.run) return false;
    const frame: Command = typeof command === 'string' ? { command } : command;
    if (frame.command === 'stop') void session.run.requestStop().catch(() => undefined);
    session.send({ type: 'command', ...frame });
    return true;
  }

  /** What the connected run's SDK can do when asked; null when it is not connected or never said. */
  capabilities(runId: string): Capabilities | null {
    return this.sessionFor(runId)?.capabilities ?? null;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.closing = true;
    // A hub that goes (a window reload) leaves its runs to the next one: it cannot see them return.
    for (const timer of this.awaitingReturn.values()) clearTimeout(timer);
    this.awaitingReturn.clear();
    for (const s of this.sessions) s.ws.close(1001, 'hub shutting down');
    await Promise.all([...this.sessions].map((s) => s.closed));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections?.();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.store.flushAll();
  }

  private accept(ws: WebSocket): void {
    const session = new Session(ws, this);
    this.sessions.add(session);
    session.closed.then(() => this.sessions.delete(session));
    this.emit('session', session);
  }

  private beat(): void {
    for (const session of this.sessions) session.heartbeat();
  }
}
