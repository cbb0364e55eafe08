// One trainer connection: waits for hello, binds to a run, validates and stores every frame.
// A refused frame gets an error frame and the connection lives on.
import type { RawData, WebSocket } from 'ws';
import { parseTrainerFrame, type RowError } from '../protocol/validate';
import { CLOSE, PROTOCOL_VERSION, type ErrorCode, type Hello, type HubFrame, type ScalarRow, type Scalars } from '../protocol/wire';
import { RESERVED_KEYS, type Run } from '../store/run';
import type { Hub } from './hub';

export class Session {
  run: Run | undefined;
  readonly closed: Promise<void>;
  private alive = true;
  private binding = false;
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
    this.closed = new Promise((resolve) => ws.once('close', () => resolve(this.onClose())));
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
    if (!this.alive) {
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
    const parsed = parseTrainerFrame(data.toString());
    if (!parsed.ok) {
      this.fail(parsed.code, parsed.message);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 'hello') {
      void this.onHello(frame);
      return;
    }
    const run = this.run;
    if (!run) {
      this.fail('not-hello', this.binding ? `${frame.type}: arrived before the welcome; wait for it` : `${frame.type}: the first frame must be hello`);
      return;
    }
    switch (frame.type) {
      case 'scalars':
        this.onScalars(run, frame, parsed.badRows);
        break;
      case 'distribution':
      case 'reliability':
        run.appendDistribution(frame);
        this.hub.emit('distribution', run, frame);
        break;
      case 'event':
        run.appendEvent(frame);
        break;
      case 'end':
        void run.end(frame.status, frame.error ?? null).then(() => this.hub.emit('runEnded', run));
        break;
    }
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
    if (runId !== null && this.hub.sessionFor(runId)) {
      this.fail('run-busy', `runId: run ${runId} already has a live connection; retry after it closes`);
      this.ws.close(CLOSE.busy, 'run busy');
      return;
    }
    this.binding = true;
    try {
      const { run, resumed } = await this.hub.store.open({
        id: runId,
        name: hello.run?.name ?? null,
        config: hello.run?.config ?? null,
        host: hello.host ?? null,
        pid: hello.pid ?? null,
        device: hello.device ?? null,
        sdk: hello.sdk ?? null,
      });
      // Two hellos for one run can race through the awaits above: the first one wins.
      if (this.ws.readyState !== this.ws.OPEN || (runId !== null && this.hub.sessionFor(runId))) {
        if (this.ws.readyState === this.ws.OPEN) {
          this.fail('run-busy', `runId: run ${runId} already has a live connection; retry after it closes`);
          this.ws.close(CLOSE.busy, 'run busy');
        }
        return;
      }
      this.run = run;
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
    } catch (err) {
      this.fail('bad-run-id', `hello: cannot open run: ${(err as Error).message}`);
      this.ws.close(CLOSE.badRequest, 'cannot open run');
    } finally {
      this.binding = false;
    }
  }

  private onScalars(run: Run, frame: Scalars, badRows: RowError[]): void {
    if (frame.dropped) void run.updateMeta({ droppedRows: run.meta.droppedRows + frame.dropped }).catch(() => undefined);
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

  private async onClose(): Promise<void> {
    for (const off of this.detach) off();
    const run = this.run;
    if (!run) return;
    run.connected = false;
    // Whatever arrived is written now rather than at the next timer tick.
    await run.flush().catch(() => undefined);
    this.hub.emit('disconnected', run);
  }
}

function reservedName(row: ScalarRow): string | undefined {
  for (const name in row.values) if (RESERVED_KEYS.has(name)) return name;
  return undefined;
}
