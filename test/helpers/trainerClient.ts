// A test trainer: a real `ws` client that records what the hub sends and can wait for a frame type.
import { WebSocket, type ClientOptions } from 'ws';
import type { HubFrame } from '../../src/protocol/wire';

export class TestTrainer {
  readonly received: HubFrame[] = [];
  private waiters: { type: string; resolve: (f: HubFrame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as HubFrame;
      this.received.push(frame);
      for (const w of this.waiters.filter((w) => w.type === frame.type)) {
        clearTimeout(w.timer);
        w.resolve(frame);
      }
      this.waiters = this.waiters.filter((w) => w.type !== frame.type);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, token: string | null, options: ClientOptions = {}): Promise<TestTrainer> {
    const headers: Record<string, string> = { ...((options.headers as Record<string, string>) ?? {}) };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const ws = new WebSocket(url, { ...options, headers });
    const client = new TestTrainer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Resolves with the HTTP status of a refused upgrade. */
  static async refusedStatus(url: string, headers: Record<string, string>): Promise<number> {
    const ws = new WebSocket(url, { headers });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('error', () => undefined);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  next<T extends HubFrame['type']>(type: T, timeoutMs = 5000): Promise<Extract<HubFrame, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`)), timeoutMs);
      this.waiters.push({ type, resolve: resolve as (f: HubFrame) => void, reject, timer });
    });
  }

  async hello(name = 'test', extra: Record<string, unknown> = {}): Promise<Extract<HubFrame, { type: 'welcome' }>> {
    const welcome = this.next('welcome');
    this.send({ type: 'hello', protocol: 1, sdk: 'test/0', run: { name }, pid: process.pid, host: undefined, ...extra });
    return welcome;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

export function rows(from: number, count: number, metrics = 3): { step: number; time: number; values: Record<string, number> }[] {
  return Array.from({ length: count }, (_, i) => ({
    step: from + i,
    time: 1_700_000_000 + from + i,
    values: Object.fromEntries(Array.from({ length: metrics }, (_, m) => [m === 0 ? 'loss' : `m${m}`, 1 / (from + i + 1) + m])),
  }));
}
