// The load generator of the ingest benchmark, in its own process: frames of 100 rows × 50 metrics
// sent as fast as the socket drains, timed until the hub acknowledges the last row as written.
import { WebSocket } from 'ws';

const [url, token, framesArg, rateArg] = process.argv.slice(2);
const frames = Number(framesArg);
/** Values per second to offer; 0 sends as fast as the socket drains. */
const rate = Number(rateArg ?? 0);
const ROWS = 100;
const METRICS = 50;
const names = Array.from({ length: METRICS }, (_, m) => (m === 0 ? 'loss' : `layer${m}/metric`));

function frame(seq: number): string {
  const rows = [];
  for (let r = 0; r < ROWS; r++) {
    const step = seq + r;
    const values: Record<string, number> = {};
    for (let m = 0; m < METRICS; m++) values[names[m]] = Math.sin(step * 0.001 + m) * 3.14159;
    rows.push({ step, time: 1_700_000_000 + step / 10, values });
  }
  return JSON.stringify({ type: 'scalars', seq, rows });
}

const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, run: { name: 'bench-ingest' }, pid: process.pid })));
let started = 0;
let sent = 0;
const lastSeq = frames * ROWS - 1;
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString()) as { type: string; seq?: number; message?: string };
  if (msg.type === 'welcome') {
    started = performance.now();
    pump();
  } else if (msg.type === 'ack' && msg.seq === lastSeq) {
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ rows: frames * ROWS, values: frames * ROWS * METRICS, seconds }) + '\n');
    ws.close();
  } else if (msg.type === 'error') {
    process.stderr.write(`hub error: ${msg.message}\n`);
    process.exit(1);
  }
});

function pump(): void {
  const due = rate > 0 ? Math.floor((((performance.now() - started) / 1000) * rate) / (ROWS * METRICS)) + 1 : frames;
  while (sent < frames && sent < due && ws.bufferedAmount < 1 << 20) {
    ws.send(frame(sent * ROWS));
    sent += 1;
  }
  if (sent < frames) {
    if (rate > 0) setTimeout(pump, 5);
    else setImmediate(pump);
  }
}
