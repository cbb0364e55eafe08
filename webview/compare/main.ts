// The comparison table (a WebviewPanel, docs/compare.md): every run with its status, start, duration,
// steps, best and last loss, alerts, tags and every config key; sorted by any column, filtered
// (src/view/runQuery.ts, the same filter as the Runs tree's), and the checked runs opened on the
// dashboard, the first one's charts with the others overlaid. Sort, filter and the checked runs are
// kept across hide and show (the webview's state); the host sends the rows again on `ready`.
import type { CompareTable } from '../contract';
import { createButton, createTextField } from '../shared/controls';
import { onHostMessage } from '../shared/hostMessages';
import { vscodeApi } from '../shared/vscodeApi';
import { BASE_COLUMNS, filterRows, parseFilter, sortRows, type RunFilter, type SortSpec } from '../../src/view/runQuery';
import { VIEW_LIMITS } from '../contract';
import { columnsFor, TableView } from './tableView';
import { idLookup } from '../shared/byId';

interface SavedState {
  v: 1;
  sort: SortSpec;
  filter: string;
  /** Checked runs in the order they were checked: the first opens, the others are overlaid. */
  selected: string[];
}

/** The dashboard opens one run and overlays at most VIEW_LIMITS.runIds others. */
const MAX_SELECTED = VIEW_LIMITS.runIds + 1;

const byId = idLookup('comparison', 'webview/compare/markup.ts');

const api = vscodeApi();
const count = byId('count');
const selectionLine = byId('selection');
const hint = selectionLine.textContent ?? '';
const filterError = byId('filter-error');
const empty = byId('empty');
const note = byId('note');

let table: CompareTable<number> | null = null;
let sort: SortSpec = { column: 'start', descending: true };
let filterText = '';
let filter: RunFilter = { terms: [], source: '' };
let selected: string[] = [];

const view = new TableView(byId<HTMLTableRowElement>('table-head'), byId<HTMLTableSectionElement>('table-body'), {
  toggle(runId, checked) {
    selected = selected.filter((id) => id !== runId);
    if (checked) selected.push(runId);
    changed();
  },
  sort(column) {
    // A new column starts with what one usually wants first: lowest loss, newest start, A to Z.
    sort = sort.column === column ? { column, descending: !sort.descending } : { column, descending: column === 'start' || column === 'steps' || column === 'duration' || column === 'alerts' };
    changed();
  },
  open(runId) {
    api.postMessage({ type: 'openDashboard', runId });
  },
});

const openButton = createButton('Open on Dashboard', () => selected.length > 0 && api.postMessage({ type: 'compareRuns', runIds: selected.slice(0, MAX_SELECTED) }), { appearance: 'primary', id: 'open-selected' });
const tagsButton = createButton('Set Tags…', () => selected.length === 1 && api.postMessage({ type: 'editTags', runId: selected[0] }), { id: 'set-tags' });
const clearButton = createButton('Clear Checks', () => {
  selected = [];
  changed();
}, { id: 'clear-selection' });
byId('actions').append(openButton.element, tagsButton.element, clearButton.element);

const filterField = createTextField('Filter runs', (text) => {
  filterText = text;
  applyFilter();
  changed();
}, { id: 'filter', placeholder: 'Filter: resnet  tag:baseline  lr<=0.001  status=completed  -diverge' });
byId('filter-box').append(filterField.element);

/** A filter that cannot be read leaves the last good one applied, and says why. */
function applyFilter(): void {
  const parsed = parseFilter(filterText);
  if ('error' in parsed) {
    filterError.textContent = parsed.error;
    return;
  }
  filterError.textContent = '';
  filter = parsed;
}

function changed(): void {
  render();
  saveState();
}

function render(): void {
  const rows = table?.rows ?? [];
  const known = new Set(rows.map((r) => r.id));
  // A run deleted meanwhile is no longer checked.
  if (table) selected = selected.filter((id) => known.has(id));
  const shown = sortRows(filterRows(rows, filter), sort);
  const columns = columnsFor(table?.configKeys ?? []);
  view.render(shown, columns, sort, selected, known);
  const total = rows.length;
  const parts = [shown.length === total ? `${total} run${total === 1 ? '' : 's'}` : `${shown.length} of ${total} runs`];
  if (selected.length > 0) parts.push(`${selected.length} checked`);
  const text = parts.join(' · ');
  if (count.textContent !== text) count.textContent = text;
  empty.hidden = table === null || shown.length > 0;
  empty.textContent = total === 0 ? 'No runs yet: launch an experiment or log one with lossradar.init().' : 'No run matches the filter.';
  note.hidden = !table?.configTruncated;
  note.textContent = table?.configTruncated ? `Only the first ${table.configKeys.length} config keys are columns.` : '';
  const names = new Map(rows.map((r) => [r.id, r.name]));
  selectionLine.textContent =
    selected.length === 0
      ? hint
      : selected.length === 1
        ? `Opens “${names.get(selected[0])}”.`
        : `Opens “${names.get(selected[0])}” with ${selected.slice(1, MAX_SELECTED).map((id) => `“${names.get(id)}”`).join(', ')} overlaid.${selected.length > MAX_SELECTED ? ` At most ${MAX_SELECTED - 1} runs are overlaid.` : ''}`;
  openButton.setDisabled(selected.length === 0);
  tagsButton.setDisabled(selected.length !== 1);
  clearButton.setDisabled(selected.length === 0);
}

function saveState(): void {
  const state: SavedState = { v: 1, sort, filter: filterText, selected };
  api.setState(state);
}

function restoreState(): void {
  const saved = api.getState() as Partial<SavedState> | null | undefined;
  if (!saved || saved.v !== 1) return;
  const s = saved.sort;
  if (s && typeof s.column === 'string' && typeof s.descending === 'boolean' && ((BASE_COLUMNS as readonly string[]).includes(s.column) || s.column.startsWith('config.'))) sort = { column: s.column, descending: s.descending };
  if (typeof saved.filter === 'string') {
    filterText = saved.filter;
    filterField.value = filterText;
    applyFilter();
  }
  if (Array.isArray(saved.selected)) selected = saved.selected.filter((id): id is string => typeof id === 'string').slice(0, 200);
}

onHostMessage((message) => {
  if (message.type !== 'compareTable') return;
  table = message.table;
  render();
});

restoreState();
render();
api.postMessage({ type: 'ready', view: 'compare' });
