// The table of runs: one <tr> per run, kept by run id, so a refresh of a live run's cells (once a
// second or so) rewrites only the text that changed and never takes the focus or a check box away.
// Every string from a run (names, tags, config values) goes in through textContent.
import type { CompareRow } from '../contract';
import { createCheckbox, type CheckboxControl } from '../shared/controls';
import { formatStep, formatValue } from '../shared/format';
import type { SortSpec } from '../../src/view/runQuery';

export interface Column {
  /** A base column of src/view/runQuery.ts, or `config.<key>`. */
  id: string;
  label: string;
  numeric: boolean;
  config: boolean;
}

interface Cell {
  text: string;
  className: string;
  title: string;
  tags?: string[];
}

interface RowView {
  tr: HTMLTableRowElement;
  box: CheckboxControl;
  name: string;
  cells: HTMLTableCellElement[];
  columnsKey: string;
}

export interface TableEvents {
  toggle(runId: string, checked: boolean): void;
  sort(column: string): void;
  open(runId: string): void;
}

export function columnsFor(configKeys: readonly string[]): Column[] {
  const base: Column[] = [
    { id: 'name', label: 'Run', numeric: false, config: false },
    { id: 'status', label: 'Status', numeric: false, config: false },
    { id: 'tags', label: 'Tags', numeric: false, config: false },
    { id: 'start', label: 'Start', numeric: true, config: false },
    { id: 'duration', label: 'Duration', numeric: true, config: false },
    { id: 'steps', label: 'Steps', numeric: true, config: false },
    { id: 'best', label: 'Best loss', numeric: true, config: false },
    { id: 'last', label: 'Last loss', numeric: true, config: false },
    { id: 'alerts', label: 'Alerts', numeric: true, config: false },
  ];
  return [...base, ...configKeys.map((key) => ({ id: `config.${key}`, label: key, numeric: false, config: true }))];
}

export class TableView {
  private readonly views = new Map<string, RowView>();
  private headKey = '';

  constructor(
    private readonly head: HTMLTableRowElement,
    private readonly body: HTMLTableSectionElement,
    private readonly events: TableEvents,
  ) {}

  /** Draws `rows` (already filtered and sorted) under `columns`; runs not in `known` are forgotten. */
  render(rows: readonly CompareRow[], columns: readonly Column[], sort: SortSpec, selected: readonly string[], known: ReadonlySet<string>): void {
    this.renderHead(columns, sort);
    const columnsKey = columns.map((c) => c.id).join('\n');
    for (const [id, view] of this.views) {
      if (known.has(id)) continue;
      this.views.delete(id);
      view.tr.remove();
    }
    const order: HTMLTableRowElement[] = [];
    for (const row of rows) {
      const view = this.views.get(row.id) ?? this.create(row);
      if (view.columnsKey !== columnsKey) this.rebuild(view, columns, columnsKey);
      if (view.name !== row.name) {
        view.name = row.name;
        view.box.element.textContent = row.name;
        view.box.element.title = `${row.name} (${row.id})`;
      }
      const checked = selected.includes(row.id);
      if (view.box.checked !== checked) view.box.checked = checked;
      view.tr.classList.toggle('selected', checked);
      for (let i = 1; i < columns.length; i++) write(view.cells[i - 1], cellOf(row, columns[i]));
      order.push(view.tr);
    }
    // Moving a row that holds the focus would take it away: only a changed order is applied.
    const current = [...this.body.children];
    if (current.length !== order.length || current.some((tr, i) => tr !== order[i])) this.body.replaceChildren(...order);
  }

  private renderHead(columns: readonly Column[], sort: SortSpec): void {
    const key = JSON.stringify([columns.map((c) => c.id), sort]);
    if (key === this.headKey) return;
    this.headKey = key;
    this.head.replaceChildren(
      ...columns.map((column) => {
        const th = document.createElement('th');
        th.scope = 'col';
        th.dataset.column = column.id;
        if (column.config) th.className = 'config';
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = column.label;
        button.title = column.config ? `config: ${column.label} (sort)` : `Sort by ${column.label.toLowerCase()}`;
        button.addEventListener('click', () => this.events.sort(column.id));
        th.append(button);
        if (sort.column === column.id) {
          th.setAttribute('aria-sort', sort.descending ? 'descending' : 'ascending');
          const arrow = document.createElement('span');
          arrow.className = 'order';
          arrow.setAttribute('aria-hidden', 'true');
          arrow.textContent = sort.descending ? '▼' : '▲';
          th.append(arrow);
        }
        return th;
      }),
    );
  }

  private create(row: CompareRow): RowView {
    const tr = document.createElement('tr');
    tr.dataset.runId = row.id;
    const box = createCheckbox(row.name, false, (checked) => this.events.toggle(row.id, checked));
    box.element.title = `${row.name} (${row.id})`;
    const nameCell = document.createElement('td');
    nameCell.className = 'name';
    nameCell.append(box.element);
    tr.append(nameCell);
    tr.addEventListener('dblclick', () => this.events.open(row.id));
    const view: RowView = { tr, box, name: row.name, cells: [], columnsKey: '' };
    this.views.set(row.id, view);
    return view;
  }

  private rebuild(view: RowView, columns: readonly Column[], columnsKey: string): void {
    for (const cell of view.cells) cell.remove();
    view.cells = columns.slice(1).map((column) => {
      const td = document.createElement('td');
      td.dataset.column = column.id;
      return td;
    });
    view.tr.append(...view.cells);
    view.columnsKey = columnsKey;
  }
}

const EMPTY = '—';

function cellOf(row: CompareRow, column: Column): Cell {
  const number = (text: string, title = '') => ({ text, className: 'number', title });
  const empty = (title = ''): Cell => ({ text: EMPTY, className: column.numeric ? 'number empty-cell' : 'empty-cell', title });
  switch (column.id) {
    case 'status':
      return { text: row.status, className: `status-${row.status}`, title: '' };
    case 'tags':
      return { text: row.tags.join(', '), className: 'tags', title: '', tags: row.tags };
    case 'start':
      return number(formatTime(row.createdAt), new Date(row.createdAt * 1000).toISOString());
    case 'duration':
      return row.duration === null ? empty() : number(formatDuration(row.duration));
    case 'steps':
      return row.steps === null ? empty() : number(formatStep(row.steps));
    case 'best':
      return row.bestLoss === null ? empty(noLoss(row)) : number(formatValue(row.bestLoss), `${row.lossMetric} at step ${formatStep(row.bestStep ?? NaN)}`);
    case 'last': {
      if (row.lastLoss === null) return empty(noLoss(row));
      const cell = number(formatValue(row.lastLoss), `${row.lossMetric} at step ${formatStep(row.steps ?? NaN)}`);
      return Number.isFinite(row.lastLoss) ? cell : { ...cell, className: 'number nonfinite' };
    }
    case 'alerts':
      return row.alerts === null ? empty('not known') : number(String(row.alerts));
    default: {
      const key = column.id.slice('config.'.length);
      const value = Object.hasOwn(row.config, key) ? row.config[key] : undefined;
      if (value === undefined || value === null) return empty(value === null ? 'null' : 'not set');
      return typeof value === 'number' ? number(String(value)) : { text: String(value), className: '', title: String(value) };
    }
  }
}

const noLoss = (row: CompareRow) => (row.lossMetric === null ? 'no loss logged (docs/metrics.md)' : '');

function write(td: HTMLTableCellElement, cell: Cell): void {
  const key = cell.tags ? `tags:${JSON.stringify(cell.tags)}` : cell.text;
  if (td.dataset.text !== key) {
    td.dataset.text = key;
    if (cell.tags) {
      td.replaceChildren(
        ...cell.tags.map((tag) => {
          const span = document.createElement('span');
          span.className = 'tag';
          span.textContent = tag;
          return span;
        }),
      );
    } else {
      td.textContent = cell.text;
    }
  }
  if (td.className !== cell.className) td.className = cell.className;
  if (td.title !== cell.title) td.title = cell.title;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** 2024-11-23 14:05, local time. */
export function formatTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** 42s, 5m 03s, 2h 07m, 3d 04h. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}
