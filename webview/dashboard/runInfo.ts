// The run's events (`run.event()`, with their kind and span) and its config, beside the charts
// (docs/charts.md). A config is flattened to dotted keys (`optimizer.lr`), every value shown as
// JSON text; every string goes through textContent.
import type { ViewEvent } from '../contract';
import { formatStep } from '../shared/format';

/** `{optimizer: {lr: 3e-4}}` → [["optimizer.lr", "0.0003"]], in key order. */
export function flattenConfig(config: Record<string, unknown>, prefix = '', out: [string, string][] = []): [string, string][] {
  for (const key of Object.keys(config)) {
    const value = config[key];
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && out.length < 2000) flattenConfig(value as Record<string, unknown>, name, out);
    else out.push([name, typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)]);
  }
  return out;
}

export class RunInfo {
  private eventsKey = '';
  private configKey = '';

  constructor(
    private readonly eventsBox: HTMLElement,
    private readonly eventsSection: HTMLElement,
    private readonly configBox: HTMLElement,
    private readonly configSection: HTMLElement,
  ) {}

  render(events: readonly ViewEvent[], config: Record<string, unknown> | null): void {
    const eventsKey = `${events.length}:${events[events.length - 1]?.message ?? ''}`;
    if (eventsKey !== this.eventsKey) {
      this.eventsKey = eventsKey;
      this.eventsSection.hidden = events.length === 0;
      // Newest first: the last checkpoint or rollback is what one looks for.
      const rows = [...events].reverse().slice(0, 500).map((e) => {
        const tr = document.createElement('tr');
        tr.className = `event ${e.level}`;
        const where = e.span ? `${formatStep(e.span.from)}–${formatStep(e.span.to)}` : e.step !== null ? formatStep(e.step) : '';
        for (const [cls, text] of [
          ['event-step', where],
          ['event-kind', e.kind ?? e.level],
          ['event-message', e.message],
        ] as const) {
          const td = document.createElement('td');
          td.className = cls;
          td.textContent = text;
          tr.append(td);
        }
        return tr;
      });
      this.eventsBox.replaceChildren(...rows);
    }
    const flat = config ? flattenConfig(config) : [];
    const configKey = JSON.stringify(flat);
    if (configKey !== this.configKey) {
      this.configKey = configKey;
      this.configSection.hidden = flat.length === 0;
      this.configBox.replaceChildren(
        ...flat.map(([k, v]) => {
          const tr = document.createElement('tr');
          const th = document.createElement('th');
          th.scope = 'row';
          th.textContent = k;
          const td = document.createElement('td');
          td.textContent = v;
          tr.append(th, td);
          return tr;
        }),
      );
    }
  }
}
