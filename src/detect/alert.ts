// What a detector says about a run (design.md §5). Plain data: stored in alerts.jsonl, printed by
// `lossradar detect`, shown by every VS Code surface.
export type AlertKind =
  | 'nonfinite'
  | 'loss-spike'
  | 'divergence'
  | 'sa-collapse'
  | 'entropy-collapse'
  | 'calibration-drift'
  | 'grad-spike'
  | 'sigma-growth';

/** `warning` predicts trouble; `critical` means the loss is exploding or non-finite now. */
export type Severity = 'warning' | 'critical';

export interface Alert {
  /** Unique within a run: the episode (detector and metric or layer) and the step it opened. */
  id: string;
  kind: AlertKind;
  severity: Severity;
  /** The step whose row triggered the alert. */
  step: number;
  metric: string;
  message: string;
  /** The values that triggered it: the metric and the statistics it was judged against. */
  values: Record<string, number>;
  /** Where the row was logged, when the trainer said. */
  source?: { file: string; line: number };
  /** 'open' until the metric recovers; then a second record with 'closed' and closedStep. */
  state: 'open' | 'closed';
  closedStep?: number;
}
