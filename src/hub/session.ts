// One trainer connection: waits for hello, binds to a run, validates and stores every frame.
// A refused frame gets an error frame and the connection lives on; frames that arrive while the
// run is being opened wait and are applied in order once it is bound (docs/protocol.md).
import type { RawData, WebSocket } from 'ws';
import { parseTrainerFrame, type Parsed as ParseResult, type RowError } from '../protocol/validate';
import {
  CLOSE,
  PROTOCOL_VERSION,
  type Capabilities,
  type ErrorCode,
  type Hello,
  type HubFrame,
  type ScalarRow,
  type Scalars,
  type TrainerFrame,
} from '../protocol/wire';
import { RESERVED_KEYS, type Run } from '../store/run';
import type { Hub } from './hub';

/**
 * Frames held while the run opens (a resume of a long run can take seconds). A client that sends
 * more than this before its welcome is closed: it has had no ack, so it re-sends all on reconnect.
 */
const MAX_EARLY_BYTES = 16 * 1024 * 1024;

type Parsed = Extract<ParseResult, { ok: true }>;

export class Session {
  run: Run | undefined;
  /** What the trainer's SDK can do when asked (hello, then `capabilities` frames; docs/rescue.md). */
  capabilities: Capabilities | null = null;
  readonly closed: Promise<void>;
  private alive = true;
  private binding = false;
  /** The run id this connection holds a claim on (see Hub.claim), from hello until close. */
  private claimed: string | null = null;
  private early: Parsed[] = [];
  private earlyBytes = 0;
  private ended = false;
  /** Set once the store refused rows: nothing after them may be stored, or an ack would cover them. */
  private refusing = false;
  private helloTimer: NodeJS.Timeout | undefined;
  /** While the run's backlog is high the socket is not read; this polls for the drain. */
  private drainTimer: NodeJS.Timeout | undefined;
  /** Rows at or below this step are re-sends of a resumed run that carry no seq: dropped. */
  private resumeStepFloor: number | null = null;
  private readonly detach: (() => void)[] = [];

  constructor(
    readonly ws: WebSocket,
    private readonly hub: Hub,
  ) {
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    // A reset or a protocol violation ends the connection; the close handler does the rest.
    ws.on('error', (err) => hub.emit('problem', `trainer connection error: ${err.message}`));
    this.closed = new Promise((resolve) =>
      ws.once('close', () => resolve(this.onClose().catch((err: unknown) => this.internalError('close', err)))),
    );
    // An authenticated socket that never says hello would hold a connection slot for ever.
    this.helloTimer = setTimeout(() => {
      if (this.run || this.binding || ws.readyState !== ws.OPEN) return;
      this.fail('no-hello', `no hello within ${hub.helloTimeoutMs} ms of connecting; closing`);
      ws.close(CLOSE.noHello, 'no hello');
    }, hub.helloTimeoutMs);
    this.helloTimer.unref();
  }

  send(frame: HubFrame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    // A peer that never reads would make us buffer without bound: drop it instead.
    if (this.ws.bufferedAmount > this.hub.maxBufferedBytes) {
      this.hub.emit('problem', `dropped a trainer that stopped reading (${this.ws.bufferedAmount} bytes unread)`);
      this.ws.terminate();
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  heartbeat(): void {
    // A paused socket is not read, so its pongs wait too: that is our doing, not the peer's.
    if (!this.alive && !this.ws.isPaused) {
      this.hub.emit('problem', `dropped a trainer that stopped answering pings${this.run ? ` (run ${this.run.id})` : ''}`);
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private fail(code: ErrorCode, message: string): void {
    this.send({ type: 'error', code, message });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (isBinary) {
      this.fail('binary-frame', 'binary frames are not part of the protocol; send JSON text frames');
      return;
    }
    const text = data.toString();
    const parsed = parseTrainerFrame(text);
    if (!parsed.ok) {
      this.fail(parsed.code, parsed.message);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 'hello') {
      void this.onHello(frame).catch((err: unknown) => this.internalError('hello', err));
      return;
    }
    if (this.binding) {
      // Sent right after hello, before the welcome: applied once the run is bound, in order.
      if (this.refusing) return;
      this.earlyBytes += text.length;
      if (this.earlyBytes > MAX_EARLY_BYTES) {
        this.refusing = true;
        this.early = [];
        this.fail('not-hello', `more than ${MAX_EARLY_BYTES / 1024 / 1024} MiB sent before the welcome; wait for it, then send (nothing of this connection was stored)`);
        this.ws.close(CLOSE.badRequest, 'too much before welcome');
        return;
      }
      this.early.push(parsed);
      return;
    }
    const run = this.run;
    if (!run) {
      this.fail('not-hello', `${frame.type}: the first frame must be hello`);
      return;
    }
    this.apply(run, parsed);
  }

  private apply(run: Run, parsed: Parsed): void {
    const frame = parsed.frame;
    if (this.refusing) return;
    // A hello never gets here: onMessage hands every hello to onHello, which refuses a second one.
    switch (frame.type) {
      case 'scalars':
        if (this.overBacklog(run)) return;
        this.onScalars(run, frame, parsed.badRows);
        this.pauseWhileBacklogged(run);
        break;
      case 'distribution':
      case 'reliability':
        if (this.overBacklog(run)) return;
        run.appendDistribution(frame);
        this.hub.emit('distribution', run, frame);
        break;
      case 'event':
        if (this.overBacklog(run)) return;
        this.hub.emit('event', run, run.appendEvent(frame));
        break;
      case 'capabilities':
        this.capabilities = { actions: frame.actions, ...(frame.rescue ? { rescue: frame.rescue } : {}) };
        this.hub.emit('capabilities', run, this.capabilities);
        break;
      case 'end':
        this.onEnd(run, frame);
        break;
    }
  }

  private onEnd(run: Run, frame: Extract<TrainerFrame, { type: 'end' }>): void {
    if (this.ended) {
      this.fail('already-ended', `end: run ${run.id} already ended on this connection (${run.meta.status}); ignored`);
      return;
    }
    this.ended = true;
    // Never rejects: a disk that refuses the write keeps it queued and retried (Run.end).
    void run.end(frame.status, frame.error ?? null);
  }

  /**
   * The store cannot keep up (a full disk, a disk slower than the trainer): rather than queue
   * without bound, refuse this frame and every later one of this connection, tell the trainer and
   * close. It keeps its unacknowledged rows and re-sends them after `welcome.lastSeq` on reconnect.
   */
  private overBacklog(run: Run): boolean {
    const backlog = run.backlogBytes;
    if (backlog <= this.hub.maxBacklogBytes) return false;
    this.refusing = true;
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    this.fail(
      'backpressure',
      `run ${run.id}: ${mib(backlog)} MiB wait for the disk (limit ${mib(this.hub.maxBacklogBytes)} MiB)${run.storeFailing ? ', which refuses writes' : ''}; ` +
        `rows from seq ${(run.lastSeq ?? -1) + 1} were not stored: reconnect later and re-send them`,
    );
    this.hub.emit('problem', `refused frames of run ${run.id}: ${mib(backlog)} MiB wait for the disk`);
    this.ws.close(CLOSE.storeFull, 'store backlog full');
    return true;
  }

  private pauseWhileBacklogged(run: Run): void {
    if (this.ws.isPaused || run.backlogBytes <= this.hub.pauseBacklogBytes) return;
    this.ws.pause();
    this.drainTimer = setInterval(() => {
      if (run.backlogBytes > this.hub.pauseBacklogBytes / 2 && this.ws.readyState === this.ws.OPEN) return;
      clearInterval(this.drainTimer);
      this.drainTimer = undefined;
      this.alive = true;
      this.ws.resume();
    }, 20);
    this.drainTimer.unref();
  }

  private async onHello(hello: Hello): Promise<void> {
    if (this.run || this.binding) {
      this.fail('invalid-frame', 'hello: this connection is already bound to a run');
      return;
    }
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.fail('protocol-version', `hello.protocol: this hub speaks protocol ${PROTOCOL_VERSION}, got ${hello.protocol}`);
      this.ws.close(CLOSE.badRequest, 'protocol version');
      return;
    }
    const runId = hello.runId ?? null;
    // Claimed before the run is opened: a second hello for the same id, even one that arrives while
    // the first is still creating the run, is busy rather than a second creation.
    if (runId !== null) {
      if (!this.hub.claim(runId, this)) {
        this.fail('run-busy', `runId: run ${runId} already has a live connection; retry after it closes`);
        this.ws.close(CLOSE.busy, 'run busy');
        return;
      }
      this.claimed = runId;
    }
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.binding = true;
    let run: Run;
    let resumed: boolean;
    try {
      ({ run, resumed } = await this.hub.store.open({
        id: runId,
        name: hello.run?.name ?? null,
        config: hello.run?.config ?? null,
        host: hello.host ?? null,
        pid: hello.pid ?? null,
        device: hello.device ?? null,
        sdk: hello.sdk ?? null,
        tags: hello.run?.tags ?? null,
      }));
    } catch (err) {
      this.binding = false;
      this.early = [];
      this.fail('bad-run-id', `hello: cannot open run: ${(err as Error).message}`);
      this.ws.close(CLOSE.badRequest, 'cannot open run');
      return;
    }
    this.binding = false;
    if (this.ws.readyState !== this.ws.OPEN) {
      // Gone while the run opened: the run is marked like any other that lost its trainer.
      this.early = [];
      this.hub.watchForReturn(run);
      return;
    }
    if (this.claimed === null) {
      this.hub.claim(run.id, this);
      this.claimed = run.id;
    }
    this.run = run;
    this.capabilities = hello.capabilities ?? null;
    run.connected = true;
    if (resumed) this.resumeStepFloor = run.lastStep;
    const onDurable = (seq: number) => this.send({ type: 'ack', seq });
    const onStoreError = (err: NodeJS.ErrnoException) => {
      const what = err.code === 'ENOSPC' ? 'the disk is full' : err.message;
      this.fail('disk', `cannot write run ${run.id}: ${what}; rows are kept in memory and retried`);
      this.hub.emit('problem', `cannot write run ${run.id} in ${run.dir}: ${err.code ?? ''} ${err.message}`);
    };
    run.on('durable', onDurable);
    run.on('storeError', onStoreError);
    this.detach.push(() => run.off('durable', onDurable), () => run.off('storeError', onStoreError));
    this.send({ type: 'welcome', runId: run.id, lastSeq: run.lastSeq, lastStep: run.lastStep });
    this.hub.emit('runStarted', run, resumed);
    const early = this.early;
    this.early = [];
    for (const parsed of early) this.apply(run, parsed);
  }

  private onScalars(run: Run, frame: Scalars, badRows: RowError[]): void {
    if (frame.dropped) run.updateMeta({ droppedRows: run.meta.droppedRows + frame.dropped }).catch(() => undefined);
    const accepted: ScalarRow[] = [];
    const seqs: (number | undefined)[] = [];
    const refused: string[] = [];
    let lastStep = run.lastStep;
    let nextBad = 0;
    for (let i = 0; i < frame.rows.length; i++) {
      if (nextBad < badRows.length && badRows[nextBad].index === i) {
        refused.push(badRows[nextBad].message);
        nextBad += 1;
        continue;
      }
      const row = frame.rows[i];
      const seq = frame.seq === undefined ? undefined : frame.seq + i;
      if (seq !== undefined) {
        if (run.lastSeq !== null && seq <= run.lastSeq) continue; // already stored: a re-send
      } else if (this.resumeStepFloor !== null && row.step <= this.resumeStepFloor) {
        continue; // a re-send after resume from a client without seq numbers
      }
      if (lastStep !== null && row.step < lastStep) {
        refused.push(`rows[${i}].step: ${row.step} goes backwards (last step ${lastStep})`);
        continue;
      }
      const reserved = reservedName(row);
      if (reserved) {
        refused.push(`rows[${i}].values.${reserved}: "${reserved}" is a reserved key, not a metric name`);
        continue;
      }
      accepted.push(row);
      seqs.push(seq);
      lastStep = row.step;
      if (seq !== undefined) run.lastSeq = seq;
    }
    if (accepted.length > 0) this.hub.emit('rows', run, run.append(accepted, seqs));
    if (refused.length > 0) {
      const code: ErrorCode = refused.every((r) => r.includes('goes backwards')) ? 'step-backwards' : 'invalid-frame';
      const more = refused.length > 1 ? ` (and ${refused.length - 1} more; ${refused.length} rows refused)` : ' (1 row refused)';
      this.fail(code, refused[0] + more);
    }
  }

  /** A bug of ours must cost this connection at most, never the hub: said, and the socket closed. */
  private internalError(what: string, err: unknown): void {
    this.hub.emit('problem', `internal error in ${what}: ${(err as Error)?.stack ?? String(err)}`);
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1011, 'internal error');
  }

  private async onClose(): Promise<void> {
    this.capabilities = null; // a trainer that is gone can be asked nothing
    if (this.helloTimer) clearTimeout(this.helloTimer);
    if (this.drainTimer) clearInterval(this.drainTimer);
    for (const off of this.detach) off();
    if (this.claimed !== null) this.hub.release(this.claimed, this);
    const run = this.run;
    if (!run) return;
    run.connected = false;
    // Whatever arrived is written now rather than at the next timer tick.
    await run.flush().catch(() => undefined);
    this.hub.emit('disconnected', run);
    if (!this.ended) this.hub.watchForReturn(run);
  }
}

function reservedName(row: ScalarRow): string | undefined {
  for (const name in row.values) if (RESERVED_KEYS.has(name)) return name;
  return undefined;
}
