// The crosshair the charts of a view share (docs/charts.md): the pointer over one chart draws a
// vertical line at its step on every chart, so a spike in the loss lines up with the learning rate
// and the gradient norm below it. Redrawn once per animation frame, markers only (no new data).
// Hand-written: chartjs-plugin-crosshair is unmaintained since Chart.js 3 and syncs by chart
// group, not by step (our charts may have different x axes: step or time).
import type { ChartPanel } from './chartPanel';

export function attachCrosshair(panels: () => readonly ChartPanel[], color: () => string): (panel: ChartPanel) => void {
  let pending: number | null | undefined;
  let scheduled = false;
  const apply = () => {
    scheduled = false;
    const step = pending ?? null;
    for (const p of panels()) p.setCrosshair(step, color());
  };
  const set = (step: number | null) => {
    pending = step;
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(apply);
    }
  };
  return (panel: ChartPanel) => {
    panel.canvas.addEventListener('mousemove', (e: MouseEvent) => set(panel.stepAt(e.offsetX)));
    panel.canvas.addEventListener('mouseleave', () => set(null));
  };
}
