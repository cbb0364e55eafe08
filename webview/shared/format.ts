// How numbers read in the views: values (NaN and ±∞ spelled out), steps and axis ticks.
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+∞' : '−∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(2);
  if (abs >= 100) return value.toFixed(1);
  return value.toPrecision(4);
}

const STEP_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12,345 (one cached formatter: toLocaleString builds a new one per call). */
export function formatStep(step: number): string {
  return Number.isFinite(step) ? STEP_FORMAT.format(Math.round(step)) : formatValue(step);
}

/** Short tick labels: 12k, 1.5M, 0.25, 3e-4. */
export function formatTick(value: number): string {
  if (!Number.isFinite(value)) return formatValue(value);
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  if (abs < 1e-3) return value.toExponential(0);
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toPrecision(3)));
}
