// The open alerts as a list (sidebar) or banner (dashboard). Every string of an alert goes
// through textContent: alert messages quote run data.
//
// The sidebar's list is compact, so its charts stay in view however many alerts are open (an
// early warning is no use below the fold): one line per alert (severity, kind, step, message cut
// with an ellipsis), a button that expands it to the whole text and where it was logged, and only
// the first few alerts until "N more" is pressed. Items are kept and updated in place rather than
// rebuilt: an expanded alert stays expanded, focus stays put, and a screen reader does not hear
// the role=alert items again each time the list changes.
//
// Each alert offers the actions its run's SDK armed (docs/rescue.md: Roll Back, Lower Learning
// Rate, Checkpoint Now) as buttons: under the message in full, in the details of a compact item.
// Pressing one posts the action with the alert's step; the host carries it out.
import type { Alert, RunAction } from '../contract';
import { RUN_ACTIONS } from '../../src/rescue/actions';
import { formatStep } from './format';

export interface AlertListOptions {
  /** One line per alert and at most this many shown until "N more" is pressed (default: all, in full). */
  compactLimit?: number;
  /** An action button was pressed (the list offers actions only when this is given). */
  onAction?: (alert: Alert, action: RunAction) => void;
}

interface Item {
  alert: Alert;
  element: HTMLElement;
  /** Where the item's action buttons go. */
  actions: HTMLElement;
}

let lists = 0;

export class AlertList {
  private readonly items = new Map<string, Item>();
  private readonly expanded = new Set<string>();
  private showAll = false;
  private more: HTMLButtonElement | null = null;
  /** The alerts' elements in the order shown. */
  private shown: HTMLElement[] = [];
  private readonly idPrefix = `alerts-${++lists}`;
  private nextId = 0;
  private actions: readonly RunAction[] = [];

  constructor(
    private readonly container: HTMLElement,
    private readonly options: AlertListOptions = {},
  ) {
    container.classList.toggle('compact', options.compactLimit !== undefined);
  }

  /** The actions the shown run can do now (none once it ended or lost its connection). */
  setActions(actions: readonly RunAction[]): void {
    if (actions.length === this.actions.length && actions.every((a, i) => a === this.actions[i])) return;
    this.actions = [...actions];
    for (const item of this.items.values()) this.fillActions(item);
  }

  private fillActions(item: Item): void {
    const onAction = this.options.onAction;
    const offered = onAction ? RUN_ACTIONS.filter((a) => this.actions.includes(a.action)) : [];
    item.actions.replaceChildren(
      ...offered.map((a) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'alert-action';
        button.dataset.action = a.action;
        button.textContent = a.label;
        button.addEventListener('click', () => onAction?.(item.alert, a.action));
        return button;
      }),
    );
    item.actions.hidden = offered.length === 0;
  }

  /** Shows `open` in the order given (the alert book's: critical first, newest first). */
  render(open: readonly Alert[]): void {
    const limit = this.options.compactLimit;
    const wanted: HTMLElement[] = [];
    const ids = new Set<string>();
    for (const alert of open) {
      ids.add(alert.id);
      let item = this.items.get(alert.id);
      if (!item || item.alert !== alert) {
        const actions = div('alert-actions', '');
        item = { alert, element: limit === undefined ? fullItem(alert, actions) : this.compactItem(alert, actions), actions };
        this.fillActions(item);
        this.items.set(alert.id, item);
      }
      wanted.push(item.element);
    }
    for (const id of [...this.items.keys()]) if (!ids.has(id)) this.items.delete(id);
    for (const id of [...this.expanded]) if (!ids.has(id)) this.expanded.delete(id);
    this.shown = wanted.slice();
    if (limit !== undefined && open.length > limit) wanted.push((this.more ??= this.moreButton()));
    this.applyLimit();
    this.place(wanted);
    this.container.hidden = open.length === 0;
    this.container.dataset.count = String(open.length);
  }

  /** Makes the container's children `wanted`, touching only the nodes that are new or moved. */
  private place(wanted: readonly HTMLElement[]): void {
    const active = document.activeElement;
    const hadFocus = active instanceof HTMLElement && this.container.contains(active) ? active : null;
    const keep = new Set(wanted);
    for (const child of [...this.container.children]) if (!keep.has(child as HTMLElement)) child.remove();
    wanted.forEach((el, i) => {
      const at = this.container.children[i];
      if (at !== el) this.container.insertBefore(el, at ?? null);
    });
    if (hadFocus && hadFocus.isConnected && document.activeElement !== hadFocus) hadFocus.focus({ preventScroll: true });
  }

  private compactItem(alert: Alert, actions: HTMLElement): HTMLElement {
    const item = shell(alert);
    const detailsId = `${this.idPrefix}-${++this.nextId}`;
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = 'alert-toggle';
    toggle.setAttribute('aria-controls', detailsId);
    toggle.append(
      span('alert-severity', severityText(alert)),
      span('alert-kind', alert.kind),
      span('alert-step', `step ${formatStep(alert.step)}`),
      span('alert-message', alert.message),
    );
    const details = document.createElement('div');
    details.className = 'alert-details';
    details.id = detailsId;
    details.append(div('alert-where', where(alert)));
    if (alert.source) details.append(div('alert-source', `${alert.source.file}:${alert.source.line}`));
    details.append(actions);
    item.append(toggle, details);
    const show = (expanded: boolean) => {
      item.classList.toggle('expanded', expanded);
      toggle.setAttribute('aria-expanded', String(expanded));
      details.hidden = !expanded;
    };
    show(this.expanded.has(alert.id));
    toggle.addEventListener('click', () => {
      const expanded = !this.expanded.has(alert.id);
      if (expanded) this.expanded.add(alert.id);
      else this.expanded.delete(alert.id);
      show(expanded);
    });
    return item;
  }

  private moreButton(): HTMLButtonElement {
    const more = document.createElement('button');
    more.type = 'button';
    more.className = 'alert-more';
    more.addEventListener('click', () => {
      this.showAll = !this.showAll;
      this.applyLimit();
    });
    return more;
  }

  /** Hides the alerts past the limit unless "N more" was pressed, and labels the expander. */
  private applyLimit(): void {
    const limit = this.options.compactLimit;
    if (limit === undefined) return;
    this.shown.forEach((el, i) => {
      el.hidden = i >= limit && !this.showAll;
    });
    if (!this.more) return;
    const text = this.showAll ? 'Show fewer' : `${Math.max(0, this.shown.length - limit)} more`;
    if (this.more.textContent !== text) this.more.textContent = text;
    this.more.setAttribute('aria-expanded', String(this.showAll));
  }
}

function shell(alert: Alert): HTMLElement {
  const item = document.createElement('div');
  item.className = `alert ${alert.severity === 'critical' ? 'critical' : 'warning'}`;
  item.dataset.alertId = alert.id;
  item.setAttribute('role', alert.severity === 'critical' ? 'alert' : 'status');
  return item;
}

function fullItem(alert: Alert, actions: HTMLElement): HTMLElement {
  const item = shell(alert);
  const head = document.createElement('div');
  head.className = 'alert-head';
  head.append(span('alert-severity', severityText(alert)), span('alert-where', where(alert)));
  item.append(head, div('alert-message', alert.message));
  if (alert.source) item.append(div('alert-source', `${alert.source.file}:${alert.source.line}`));
  item.append(actions);
  return item;
}

const severityText = (alert: Alert) => (alert.severity === 'critical' ? 'Critical' : 'Warning');
const where = (alert: Alert) => `${alert.metric} · step ${formatStep(alert.step)}`;

function span(className: string, text: string): HTMLElement {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

function div(className: string, text: string): HTMLElement {
  const el = document.createElement('div');
  el.className = className;
  el.textContent = text;
  return el;
}
