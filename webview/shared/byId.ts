// A view's elements by id. A missing one means the script and the markup the host rendered have
// drifted apart, so the error names the markup module to look at.
export function idLookup(markup: string, source: string): <T extends HTMLElement = HTMLElement>(id: string) => T {
  return <T extends HTMLElement = HTMLElement>(id: string): T => {
    const el = document.getElementById(id);
    if (!el) throw new Error(`Loss Radar: the ${markup} markup lacks #${id} (render it from ${source})`);
    return el as T;
  };
}
