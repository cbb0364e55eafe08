// Which elements are on screen (with a margin), so the views spend their frames on the charts the
// user can see; an element that scrolls into view gets drawn then.
export class Visibility {
  private readonly visible = new WeakMap<Element, boolean>();
  private readonly observer: IntersectionObserver;

  constructor(onShown: () => void) {
    this.observer = new IntersectionObserver(
      (entries) => {
        let shown = false;
        for (const e of entries) {
          const was = this.visible.get(e.target);
          this.visible.set(e.target, e.isIntersecting);
          if (e.isIntersecting && was === false) shown = true;
        }
        if (shown) onShown();
      },
      { rootMargin: '200px 0px' },
    );
  }

  observe(el: Element): void {
    this.observer.observe(el);
  }

  /** Back to unknown (after its container was shown again: the last report is stale). */
  forget(el: Element): void {
    this.visible.delete(el);
  }

  /** Unknown (not reported yet) counts as visible. */
  isVisible(el: Element): boolean {
    return this.visible.get(el) !== false;
  }
}
