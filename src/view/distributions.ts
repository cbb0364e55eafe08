// Which reliability bins and SA histograms a view shows at a step (the dashboard's step slider,
// docs/charts.md): for each, the newest frame logged at or before the step whose values can be
// drawn. NaN predictions give bins with nothing counted (the SDK sends a non-finite bin as 0, the
// wire carries only finite numbers there: docs/protocol.md); the diagram then shows the latest
// finite bins and says so, never an empty plot. Plain TypeScript: the host picks frames from the run's
// distributions.jsonl with it, and the dashboard applies the same rule to the frames it is sent live.

/** The fields of a reliability frame the rule reads (the wire's frame, or a view's decoded bins). */
export interface BinsLike {
  step: number;
  counts: readonly number[];
  accuracy: readonly number[];
  confidence: readonly number[];
}

export interface HistogramLike {
  name: string;
  step: number;
  edges: readonly number[];
  counts: readonly number[];
}

const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);

/** Bins a diagram can draw: some predictions, every non-empty bin's accuracy and confidence finite. */
export function drawableBins(b: BinsLike): boolean {
  let total = 0;
  for (let i = 0; i < b.counts.length; i++) {
    const n = b.counts[i];
    if (!finite(n)) return false;
    if (n <= 0) continue;
    if (!finite(b.accuracy[i]) || !finite(b.confidence[i])) return false;
    total += n;
  }
  return total > 0;
}

/** A histogram with finite edges and counts and something counted. */
export function drawableHistogram(h: HistogramLike): boolean {
  if (!h.edges.every(finite) || !h.counts.every(finite)) return false;
  return h.counts.some((n) => n > 0);
}

export interface Picked<B, H> {
  reliability: B | null;
  histograms: H[];
  /** Why a shown frame is from an earlier step than the newest logged (null when none is). */
  note: string | null;
}

/**
 * The frames to show at `step` (null: the newest). Frames are in the order they were logged
 * (steps non-decreasing); histograms are picked per name.
 */
export function pickAt<B extends BinsLike, H extends HistogramLike>(reliability: readonly B[], histograms: readonly H[], step: number | null, formatStep: (s: number) => string = String): Picked<B, H> {
  const limit = step ?? Infinity;
  const skipped: number[] = [];
  let bins: B | null = null;
  for (let i = reliability.length - 1; i >= 0; i--) {
    const b = reliability[i];
    if (b.step > limit) continue;
    if (drawableBins(b)) {
      bins = b;
      break;
    }
    skipped.push(b.step);
  }
  const byName = new Map<string, H>();
  const skippedLayers = new Set<string>();
  for (let i = histograms.length - 1; i >= 0; i--) {
    const h = histograms[i];
    if (h.step > limit || byName.has(h.name)) continue;
    if (drawableHistogram(h)) byName.set(h.name, h);
    else skippedLayers.add(h.name);
  }
  const notes: string[] = [];
  if (skipped.length > 0) {
    const newest = skipped[0];
    notes.push(
      bins
        ? `Step ${formatStep(newest)} has no finite bins (NaN predictions): showing step ${formatStep(bins.step)}, the latest finite ones.`
        : `Step ${formatStep(newest)} has no finite bins (NaN predictions), nor has any step before it.`,
    );
  }
  const stale = [...skippedLayers].filter((n) => byName.has(n));
  if (stale.length > 0) notes.push(`${stale.length} histogram${stale.length === 1 ? '' : 's'} not finite at the newest step: showing the latest finite one${stale.length === 1 ? '' : 's'}.`);
  const names = [...byName.keys()].sort();
  return { reliability: bins, histograms: names.map((n) => byName.get(n)!), note: notes.length > 0 ? notes.join(' ') : null };
}

/** Every step with a frame, ascending, without repeats. */
export function frameSteps(frames: readonly { step: number }[]): number[] {
  const steps = [...new Set(frames.map((f) => f.step).filter(finite))];
  return steps.sort((a, b) => a - b);
}
