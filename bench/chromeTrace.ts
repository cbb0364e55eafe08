// Chromium's own trace of a page, through the DevTools protocol: what the renderer's main thread
// did for each frame, without the page timing itself.
import type { Page } from 'playwright-core';

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { message?: string } };
}

// cc: BeginMainFrame; devtools.timeline: console.timeStamp marks; __metadata: thread names.
const CATEGORIES = ['cc', 'devtools.timeline', '__metadata'];

export async function startTrace(page: Page): Promise<{ stop(): Promise<TraceEvent[]> }> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: CATEGORIES, recordMode: 'recordAsMuchAsPossible' }, transferMode: 'ReportEvents' });
  return {
    async stop() {
      const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
      await cdp.send('Tracing.end');
      await complete;
      await cdp.detach();
      return events;
    },
  };
}

/**
 * The main-thread time (ms) of each frame that holds a `console.timeStamp(mark)`, in the order of
 * the marks: the duration of the BeginMainFrame around it (animation-frame callbacks, style,
 * layout, paint, commit). A mark outside any BeginMainFrame is an error: it would be a frame lost.
 */
export function frameWorkMs(events: readonly TraceEvent[], mark: string): number[] {
  const marks = events.filter((e) => e.name === 'TimeStamp' && e.args?.data?.message === mark).sort((a, b) => a.ts - b.ts);
  if (marks.length === 0) return [];
  const { pid, tid } = marks[0];
  const frames = events
    .filter((e) => e.name === 'ProxyMain::BeginMainFrame' && e.ph === 'X' && e.pid === pid && e.tid === tid)
    .sort((a, b) => a.ts - b.ts);
  const out: number[] = [];
  let f = 0;
  for (const m of marks) {
    while (f < frames.length && frames[f].ts + (frames[f].dur ?? 0) < m.ts) f++;
    const frame = frames[f];
    if (!frame || frame.ts > m.ts) throw new Error(`a frame mark at ${m.ts} µs lies in no BeginMainFrame of its thread`);
    out.push((frame.dur ?? 0) / 1000);
  }
  return out;
}
