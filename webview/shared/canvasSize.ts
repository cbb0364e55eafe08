// Sizes a hand-drawn canvas to its CSS box at the device pixel ratio and returns a context that
// draws in CSS pixels. The CSS height is set through the CSSOM (allowed by the webview's CSP,
// unlike a style attribute in markup).
export interface SizedContext {
  ctx: CanvasRenderingContext2D;
  width: number;
  height: number;
}

export function sizeCanvas(canvas: HTMLCanvasElement, cssHeight?: number): SizedContext | null {
  if (cssHeight !== undefined) canvas.style.height = `${Math.round(cssHeight)}px`;
  const width = canvas.clientWidth;
  const height = cssHeight ?? canvas.clientHeight;
  const ctx = canvas.getContext('2d');
  if (!ctx || width <= 0 || height <= 0) return null;
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}
