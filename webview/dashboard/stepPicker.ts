// The step of the reliability diagram and the SA histograms (docs/charts.md): a slider over the
// steps the run logged them at, following the newest by default; moving it stops following until
// "Follow live" is ticked again. The host answers a pick with the frames at that step.
import { createCheckbox, createSlider } from '../shared/controls';
import { formatStep } from '../shared/format';

export class StepPicker {
  private steps: number[] = [];
  private follow = true;
  private picked: number | null = null;
  private readonly slider;
  private readonly followBox;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    container: HTMLElement,
    private readonly onPick: (step: number | null) => void,
  ) {
    this.slider = createSlider(
      'Step',
      { min: 0, max: 0, step: 1, value: 0, id: 'dist-step', format: (i) => (this.steps.length > 0 ? formatStep(this.steps[Math.round(i)] ?? NaN) : '—') },
      (i) => {
        this.follow = false;
        this.followBox.checked = false;
        this.picked = this.steps[Math.round(i)] ?? null;
        // One request per pause of the slider, not one per pixel it moved.
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.onPick(this.picked), 120);
      },
    );
    this.followBox = createCheckbox('Follow live', true, (checked) => {
      this.follow = checked;
      if (checked) {
        this.picked = null;
        this.sync();
        this.onPick(null);
      }
    });
    this.followBox.element.id = 'dist-follow';
    container.append(this.slider.element, this.followBox.element);
  }

  get following(): boolean {
    return this.follow;
  }

  /** The step asked for (null: the newest). */
  get step(): number | null {
    return this.follow ? null : this.picked;
  }

  setSteps(steps: readonly number[]): void {
    this.steps = [...steps];
    this.sync();
  }

  /** A step logged live; the slider follows it when following. */
  addStep(step: number): void {
    if (this.steps.length === 0 || step > this.steps[this.steps.length - 1]) this.steps.push(step);
    this.sync();
  }

  restore(follow: boolean, picked: number | null): void {
    this.follow = follow || picked === null;
    this.picked = this.follow ? null : picked;
    this.followBox.checked = this.follow;
    this.sync();
  }

  private sync(): void {
    const n = this.steps.length;
    this.slider.setRange(0, Math.max(0, n - 1), 1);
    this.slider.setDisabled(n < 2);
    const at = this.follow || this.picked === null ? n - 1 : nearestIndex(this.steps, this.picked);
    this.slider.value = Math.max(0, at);
  }
}

function nearestIndex(steps: readonly number[], step: number): number {
  let best = 0;
  for (let i = 0; i < steps.length; i++) if (steps[i] <= step) best = i;
  return best;
}
