// The dashboard's metric picker (docs/charts.md): every metric the run logged, grouped by the
// prefix before its first `/`, a check box each: checked, the metric is charted. A metric no panel
// names is charted by default, except per-layer series (`sa/<layer>/…`, drawn by the heatmap;
// there can be hundreds), which are listed unchecked. The choice is the workspace's (ViewOptions →
// the host's workspaceState). Names go through textContent (controls.ts).
import { createCheckbox, type CheckboxControl } from '../shared/controls';
import { metricGroup } from '../shared/panels';

/** Charted unless the user said otherwise: per-layer series are opt-in. */
export function chartedByDefault(name: string): boolean {
  return !(name.startsWith('sa/') && name.split('/').length >= 3);
}

export class MetricPicker {
  private key = '';
  private readonly boxes = new Map<string, CheckboxControl>();

  constructor(
    private readonly container: HTMLElement,
    private readonly section: HTMLElement,
    private readonly onToggle: (name: string, charted: boolean) => void,
  ) {}

  /** Lists `names` (rebuilt only when the set changes); `charted` says each box's state. */
  render(names: readonly string[], charted: (name: string) => boolean): void {
    this.section.hidden = names.length === 0;
    const sorted = [...names].sort((a, b) => a.localeCompare(b));
    const key = sorted.join('\n');
    if (key !== this.key) {
      this.key = key;
      this.boxes.clear();
      const groups = new Map<string, string[]>();
      for (const n of sorted) {
        const g = metricGroup(n);
        groups.set(g, [...(groups.get(g) ?? []), n]);
      }
      const order = [...groups.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
      this.container.replaceChildren(
        ...order.map((g) => {
          const details = document.createElement('details');
          details.className = 'metric-group';
          details.dataset.group = g;
          details.open = g !== 'sa';
          const summary = document.createElement('summary');
          const members = groups.get(g)!;
          summary.textContent = `${g === '' ? '(no prefix)' : `${g}/`} · ${members.length}`;
          const list = document.createElement('div');
          list.className = 'metric-list';
          for (const name of members) {
            const box = createCheckbox(name, charted(name), (checked) => this.onToggle(name, checked));
            box.element.dataset.metric = name;
            this.boxes.set(name, box);
            list.append(box.element);
          }
          details.append(summary, list);
          return details;
        }),
      );
    }
    for (const [name, box] of this.boxes) {
      const want = charted(name);
      if (box.checked !== want) box.checked = want;
    }
  }
}
