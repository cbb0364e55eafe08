// What the comparison table's webview is told (docs/compare.md): the whole table when it is ready,
// then again whenever a run is created, deleted or retagged (the store's `changed`), changes status, or (for live
// runs) logs rows — at most once per `coalesceMs`, the last change never lost (Coalescer). Plain
// Node: the VS Code side hands it a `post` function.
import type { HostToWebview } from '../../webview/contract';
import type { Hub } from '../hub/hub';
import type { RoleOverrides } from '../metrics/roles';
import { Coalescer } from '../present/coalescer';
import type { RunStore } from '../store/runStore';
import { encodeTable } from './compareRows';
import { CompareSource } from './compareSource';

export class CompareBridge {
  private readonly source: CompareSource;
  private readonly flusher: Coalescer;
  private readonly unsubscribe: (() => void)[] = [];
  /** One table is built at a time; a change meanwhile builds one more after it. */
  private building: Promise<void> | undefined;
  private again = false;
  private disposed = false;

  constructor(
    private readonly post: (message: HostToWebview) => void,
    store: RunStore,
    hub: Hub,
    private readonly options: { metrics?: () => RoleOverrides; coalesceMs?: number; onError?: (err: Error) => void } = {},
  ) {
    this.source = new CompareSource(store);
    this.flusher = new Coalescer(() => void this.send(), options.coalesceMs ?? 1000);
    const request = () => this.flusher.request();
    store.on('changed', request);
    store.on('status', request);
    hub.on('rows', request);
    this.unsubscribe.push(
      () => store.off('changed', request),
      () => store.off('status', request),
      () => hub.off('rows', request),
    );
  }

  /** The view (re)loaded: the table now. */
  show(): Promise<void> {
    return this.send();
  }

  dispose(): void {
    this.disposed = true;
    this.flusher.dispose();
    for (const off of this.unsubscribe) off();
  }

  private send(): Promise<void> {
    if (this.building) {
      this.again = true;
      return this.building;
    }
    this.building = (async () => {
      try {
        do {
          this.again = false;
          const table = await this.source.table(this.options.metrics?.() ?? {});
          if (this.disposed) return;
          this.post({ type: 'compareTable', table: encodeTable(table) });
        } while (this.again && !this.disposed);
      } catch (err) {
        // A runs folder that cannot be read now is read again at the next change.
        this.options.onError?.(err as Error);
      } finally {
        this.building = undefined;
      }
    })();
    return this.building;
  }
}
