// The comparison table's rows (docs/compare.md): one per run from meta.json and its summary, the
// loss found through the metric roles, config flattened into columns; sorted and filtered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCompareTable, encodeTable, MAX_CONFIG_COLUMNS, type CompareRow } from '../../src/view/compareRows';
import { filterRows, matchesFilter, parseFilter, sortRows, type RunFilter } from '../../src/view/runQuery';
import { newMeta, type RunMeta } from '../../src/store/meta';
import { emptyStats, observeRow, type RunStats } from '../../src/store/runStats';

function statsOf(rows: [step: number, values: Record<string, number>][], alerts: number | null = 0): RunStats {
  const stats = emptyStats(alerts);
  for (const [step, values] of rows) observeRow(stats, step, 1000 + step, values);
  return stats;
}

const meta = (id: string, patch: Partial<RunMeta> = {}): RunMeta => newMeta(id, 1000, { name: id, status: 'completed', endedAt: 1600, ...patch });

function filter(text: string): RunFilter {
  const f = parseFilter(text);
  assert.ok(!('error' in f), `parses: ${text}`);
  return f;
}

test('a row holds name, status, start, duration, last step, best and last loss, alerts and tags', () => {
  const stats = statsOf([[0, { loss: 3 }], [10, { loss: 1.5 }], [20, { loss: 2 }]], 2);
  const { rows } = buildCompareTable([{ meta: meta('a', { tags: ['baseline'] }), stats }]);
  assert.deepEqual({ ...rows[0], config: { ...rows[0].config } }, {
    id: 'a', name: 'a', status: 'completed', tags: ['baseline'], createdAt: 1000, duration: 600, steps: 20,
    lossMetric: 'loss', bestLoss: 1.5, bestStep: 10, lastLoss: 2, alerts: 2, config: {},
  });
});

test('the loss is the metric the roles name: train_loss when the run logs that, the user’s choice when set', () => {
  const stats = statsOf([[0, { train_loss: 4, 'train/total': 9 }], [5, { train_loss: 2, 'train/total': 7 }]]);
  const [byRole] = buildCompareTable([{ meta: meta('a'), stats }]).rows;
  assert.equal(byRole.lossMetric, 'train_loss');
  assert.equal(byRole.bestLoss, 2);
  const [chosen] = buildCompareTable([{ meta: meta('a'), stats }], { overrides: { loss: 'train/total' } }).rows;
  assert.equal(chosen.lossMetric, 'train/total');
  assert.equal(chosen.bestLoss, 7);
  const [none] = buildCompareTable([{ meta: meta('a'), stats: statsOf([[0, { accuracy: 0.5 }]]) }]).rows;
  assert.deepEqual([none.lossMetric, none.bestLoss, none.lastLoss], [null, null, null]);
});

test('a run that blew up: the best loss is the lowest finite one, the last is NaN, and travels spelled out', () => {
  const stats = statsOf([[0, { loss: 2 }], [1, { loss: 0.5 }], [2, { loss: Infinity }], [3, { loss: NaN }]]);
  const table = buildCompareTable([{ meta: meta('x', { status: 'failed' }), stats }]);
  assert.equal(table.rows[0].bestLoss, 0.5);
  assert.ok(Number.isNaN(table.rows[0].lastLoss));
  assert.equal(encodeTable(table).rows[0].lastLoss, 'NaN');
  assert.equal(JSON.parse(JSON.stringify(encodeTable(table))).rows[0].lastLoss, 'NaN');
});

test('every config key is a column: nested keys joined with dots, lists as JSON, the union of all runs, sorted', () => {
  const table = buildCompareTable([
    { meta: meta('a', { config: { lr: 0.1, optim: { name: 'adam', betas: [0.9, 0.99] }, warmup: null } }), stats: null },
    { meta: meta('b', { config: { lr: 0.01, batch: 64, deep: { a: { b: { c: { d: 1 } } } } } }), stats: null },
  ]);
  assert.deepEqual(table.configKeys, ['batch', 'deep.a.b.c', 'lr', 'optim.betas', 'optim.name', 'warmup']);
  assert.deepEqual({ ...table.rows[0].config }, { lr: 0.1, 'optim.name': 'adam', 'optim.betas': '[0.9,0.99]', warmup: null });
  assert.equal(table.rows[1].config['deep.a.b.c'], '{"d":1}');
  assert.equal(table.configTruncated, false);
});

test('config columns stop at MAX_CONFIG_COLUMNS and the table says it left some out', () => {
  const config = Object.fromEntries(Array.from({ length: MAX_CONFIG_COLUMNS + 5 }, (_, i) => [`k${i}`, i]));
  const table = buildCompareTable([{ meta: meta('a', { config }), stats: null }]);
  assert.equal(table.configKeys.length, MAX_CONFIG_COLUMNS);
  assert.equal(table.configTruncated, true);
});

test('duration runs to now while running, to the last row when the end is unknown, and is empty without either', () => {
  const stats = statsOf([[0, { loss: 1 }], [50, { loss: 1 }]]);
  const rows = buildCompareTable(
    [
      { meta: meta('live', { status: 'running', endedAt: null }), stats },
      { meta: meta('offline', { status: 'interrupted', endedAt: null }), stats },
      { meta: meta('bare', { status: 'interrupted', endedAt: null }), stats: null },
    ],
    { now: 1300 },
  ).rows;
  assert.deepEqual(rows.map((r) => r.duration), [300, 50, null]);
  assert.deepEqual(rows.map((r) => r.steps), [50, 50, null]);
});

const rowsFor = (): CompareRow<number>[] =>
  buildCompareTable([
    { meta: meta('r1', { name: 'resnet-a', tags: ['baseline', 'cifar'], config: { lr: 0.1, optim: 'sgd', steps: 100 } }), stats: statsOf([[0, { loss: 2 }], [9, { loss: 0.4 }]], 0) },
    { meta: meta('r2', { name: 'resnet-b', status: 'failed', config: { lr: 0.5, optim: 'adam' } }), stats: statsOf([[0, { loss: 2 }], [5, { loss: NaN }]], 3) },
    { meta: meta('r3', { name: 'vit-small', status: 'running', tags: ['cifar'], config: { lr: 0.001, optim: 'adam' } }), stats: statsOf([[0, { loss: 1 }], [20, { loss: 0.2 }]], 1) },
    { meta: meta('r4', { name: 'vit-big', tags: [], config: null }), stats: null },
  ]).rows;

const ids = (rows: CompareRow<number>[]) => rows.map((r) => r.id);

test('sorting by a number column: ascending, descending, empty cells last either way', () => {
  const rows = rowsFor();
  assert.deepEqual(ids(sortRows(rows, { column: 'best', descending: false })), ['r3', 'r1', 'r2', 'r4']);
  assert.deepEqual(ids(sortRows(rows, { column: 'best', descending: true })), ['r2', 'r1', 'r3', 'r4']);
  assert.deepEqual(ids(sortRows(rows, { column: 'alerts', descending: true })), ['r2', 'r3', 'r1', 'r4']);
  assert.deepEqual(ids(sortRows(rows, { column: 'config.lr', descending: false })), ['r3', 'r1', 'r2', 'r4']);
});

test('a NaN last loss sorts with the empty cells; text sorts by name, numbers inside names in order', () => {
  const rows = rowsFor();
  assert.deepEqual(ids(sortRows(rows, { column: 'last', descending: false })), ['r3', 'r1', 'r2', 'r4']);
  assert.deepEqual(ids(sortRows(rows, { column: 'name', descending: false })), ['r1', 'r2', 'r4', 'r3']);
  const numbered = [{ ...rows[0], id: 'x10', name: 'run-10' }, { ...rows[0], id: 'x9', name: 'run-9' }];
  assert.deepEqual(ids(sortRows(numbered, { column: 'name', descending: false })), ['x9', 'x10']);
});

test('sorting is stable: equal cells keep their order', () => {
  const rows = rowsFor();
  assert.deepEqual(ids(sortRows(rows, { column: 'config.optim', descending: false })), ['r2', 'r3', 'r1', 'r4']);
});

test('a filter word matches name, id, status or a tag; tag: a tag exactly; - negates', () => {
  const rows = rowsFor();
  assert.deepEqual(ids(filterRows(rows, filter('resnet'))), ['r1', 'r2']);
  assert.deepEqual(ids(filterRows(rows, filter('FAILED'))), ['r2']);
  assert.deepEqual(ids(filterRows(rows, filter('tag:cifar'))), ['r1', 'r3']);
  assert.deepEqual(ids(filterRows(rows, filter('tag:cifar -vit'))), ['r1']);
  assert.deepEqual(ids(filterRows(rows, filter('tag:cif'))), [], 'a tag matches whole');
  assert.deepEqual(ids(filterRows(rows, filter(''))), ['r1', 'r2', 'r3', 'r4']);
});

test('a filter compares columns and config keys: numbers numerically, text in any case', () => {
  const rows = rowsFor();
  assert.deepEqual(ids(filterRows(rows, filter('lr<=0.1'))), ['r1', 'r3']);
  assert.deepEqual(ids(filterRows(rows, filter('optim=ADAM'))), ['r2', 'r3']);
  assert.deepEqual(ids(filterRows(rows, filter('optim!=adam'))), ['r1', 'r4']);
  assert.deepEqual(ids(filterRows(rows, filter('status=running'))), ['r3']);
  assert.deepEqual(ids(filterRows(rows, filter('alerts>0 best<1'))), ['r3']);
  assert.deepEqual(ids(filterRows(rows, filter('steps>=20'))), ['r3'], 'steps is the column');
  assert.deepEqual(ids(filterRows(rows, filter('config.steps=100'))), ['r1'], 'config.steps is the config key');
  assert.deepEqual(ids(filterRows(rows, filter('last>0'))), ['r1', 'r3'], 'a NaN loss is no number');
  assert.ok(matchesFilter(rows[0], filter('"resnet-a"')));
  assert.ok(matchesFilter({ ...rows[0], name: 'lr=0.1 run' }, filter('"lr=0.1 run"')), 'quoted text is text');
  assert.ok(matchesFilter({ ...rows[0], name: 'wow!' }, filter('wow!')), 'a lone ! is text');
});

test('a filter that cannot be read says which term and why', () => {
  assert.match((parseFilter('lr<abc') as { error: string }).error, /"lr<abc": < compares numbers/);
  assert.match((parseFilter('lr=') as { error: string }).error, /a value is missing after =/);
  assert.match((parseFilter('tag:') as { error: string }).error, /name the tag/);
  assert.match((parseFilter('=3') as { error: string }).error, /key=value/);
});

test('the table a webview reads: fields checked, a NaN loss back as NaN, a row that is not one left out', async () => {
  const { decodeCompareTable } = await import('../../src/view/compareRows');
  const sent = JSON.parse(JSON.stringify(encodeTable(buildCompareTable([{ meta: meta('a', { config: { lr: 0.1 } }), stats: statsOf([[0, { loss: NaN }]]) }]))));
  sent.rows.push({ id: 3, name: 'bad' }, { id: 'b', name: 'b', status: 'exploded', createdAt: 1 });
  sent.rows[0].config.evil = { nested: true };
  const table = decodeCompareTable(sent);
  assert.ok(table);
  assert.equal(table.rows.length, 1);
  assert.ok(Number.isNaN(table.rows[0].lastLoss));
  assert.deepEqual(table.rows[0].config, { lr: 0.1 });
  assert.equal(decodeCompareTable({ rows: 'x' }), null);
});
