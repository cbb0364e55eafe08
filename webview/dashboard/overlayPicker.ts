// The runs whose loss the dashboard overlays: a check box per other run (names via textContent in
// the controls module). The contract allows at most 20.
import type { RunListItem } from '../contract';
import { createCheckbox, type CheckboxControl } from '../shared/controls';

export const MAX_OVERLAY = 20;

export class OverlayPicker {
  private selected = new Set<string>();
  private boxes = new Map<string, CheckboxControl>();
  private key = '';

  constructor(
    private readonly container: HTMLElement,
    private readonly section: HTMLElement,
    private readonly onChange: (ids: string[]) => void,
  ) {}

  get ids(): string[] {
    return [...this.selected];
  }

  setSelected(ids: readonly string[]): void {
    this.selected = new Set(ids.slice(0, MAX_OVERLAY));
    for (const [id, box] of this.boxes) box.checked = this.selected.has(id);
    this.limit();
  }

  /** Runs chosen elsewhere (the comparison table, docs/compare.md): checked, and told as a user's change. */
  choose(ids: readonly string[]): void {
    this.setSelected(ids);
    this.onChange(this.ids);
  }

  render(runs: readonly RunListItem[], activeId: string | null): void {
    const others = runs.filter((r) => r.id !== activeId);
    this.section.hidden = others.length === 0;
    const key = JSON.stringify(others.map((r) => [r.id, r.name, r.status]));
    if (key === this.key) return;
    this.key = key;
    const known = new Set(others.map((r) => r.id));
    const before = this.selected.size;
    for (const id of [...this.selected]) if (!known.has(id)) this.selected.delete(id);
    this.boxes.clear();
    this.container.replaceChildren(
      ...others.map((run) => {
        const box = createCheckbox(`${run.name} (${run.status})`, this.selected.has(run.id), (checked) => {
          if (checked) this.selected.add(run.id);
          else this.selected.delete(run.id);
          this.limit();
          this.onChange(this.ids);
        });
        box.element.dataset.runId = run.id;
        this.boxes.set(run.id, box);
        return box.element;
      }),
    );
    this.limit();
    if (this.selected.size !== before) this.onChange(this.ids);
  }

  private limit(): void {
    const full = this.selected.size >= MAX_OVERLAY;
    for (const [id, box] of this.boxes) box.setDisabled(full && !this.selected.has(id));
  }
}
