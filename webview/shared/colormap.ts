// A perceptually uniform colour scale (viridis, from matplotlib, CC0) for heatmap cells: readable
// on light, dark and high-contrast backgrounds alike, and apart from the theme's error red that
// marks non-finite cells.
const ANCHORS: [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** 256 RGB triples, packed: lut[3 * i .. 3 * i + 2] for i in 0..255. */
export const VIRIDIS: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (ANCHORS.length - 1);
    const k = Math.min(ANCHORS.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(ANCHORS[k][c] + (ANCHORS[k + 1][c] - ANCHORS[k][c]) * f);
  }
  return lut;
})();

/** The colour of a value in [0, 1] (clamped) as [r, g, b]. */
export function viridis(t: number): [number, number, number] {
  const i = Math.max(0, Math.min(255, Math.round(t * 255))) * 3;
  return [VIRIDIS[i], VIRIDIS[i + 1], VIRIDIS[i + 2]];
}
