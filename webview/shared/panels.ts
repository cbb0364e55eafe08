// Which charts the views draw and which series feed them. A line takes the first of its metric
// names the run logged (entropy/normalized, else entropy/mean), or the layer spread computed in
// the view (layerSpread.ts).
export type LineSource = { kind: 'metric'; names: readonly string[] } | { kind: 'spread'; which: 'min' | 'median' };

export interface LineSpec {
  /** Legend label; a metric line without one is labelled with the metric's name. */
  label?: string;
  source: LineSource;
  /** Index into the theme's series colours. */
  color: number;
  dashed?: boolean;
}

export interface PanelSpec {
  id: string;
  title: string;
  lines: readonly LineSpec[];
  yMin?: number;
  yMax?: number;
  /** Shown (with a "waiting" note) before the run logged any of its series. */
  alwaysShown?: boolean;
}

const metric = (...names: string[]): LineSource => ({ kind: 'metric', names });

export const PANELS: readonly PanelSpec[] = [
  {
    id: 'loss',
    title: 'Loss',
    alwaysShown: true,
    lines: [
      { source: metric('loss'), color: 0 },
      { source: metric('loss/val'), color: 1 },
    ],
  },
  // The learning rate under any name a run logs it (docs/metrics.md): its role resolves the line.
  { id: 'lr', title: 'Learning rate', lines: [{ source: metric('lr'), color: 4 }] },
  { id: 'ece', title: 'Calibration error (ECE)', yMin: 0, lines: [{ source: metric('calibration/ece', 'ece'), color: 3 }] },
  {
    id: 'sa',
    title: 'SA sign diversity',
    yMin: 0,
    yMax: 1,
    lines: [
      { label: 'min', source: { kind: 'spread', which: 'min' }, color: 5 },
      { label: 'median', source: { kind: 'spread', which: 'median' }, color: 0 },
      { label: 'min (logged)', source: metric('sa/min_sign_diversity'), color: 4, dashed: true },
    ],
  },
  { id: 'entropy', title: 'Prediction entropy', yMin: 0, lines: [{ source: metric('entropy/normalized', 'entropy/mean'), color: 2 }] },
  { id: 'grad', title: 'Gradient norm', lines: [{ source: metric('grad_norm'), color: 1 }] },
  { id: 'gpu-util', title: 'GPU utilisation (%)', yMin: 0, yMax: 100, lines: [{ source: metric('gpu/util'), color: 2 }] },
  { id: 'gpu-mem', title: 'GPU memory (MB)', yMin: 0, lines: [{ source: metric('gpu/mem_used_mb'), color: 3 }] },
];

/** The chart of a metric no panel names (the dashboard draws one for each, docs/charts.md). */
export function metricPanel(name: string, index: number): PanelSpec {
  return { id: `metric:${name}`, title: name, lines: [{ source: metric(name), color: index % 6 }] };
}

/** The picker's group of a metric: the prefix before its first `/` ("" for none). */
export function metricGroup(name: string): string {
  const i = name.indexOf('/');
  return i > 0 ? name.slice(0, i) : '';
}

/** Every metric name a panel may draw. */
export const PANEL_METRICS: ReadonlySet<string> = new Set(PANELS.flatMap((p) => p.lines.flatMap((l) => (l.source.kind === 'metric' ? [...l.source.names] : []))));
