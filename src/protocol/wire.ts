// Wire protocol v1 between a trainer and the hub (design.md §2, docs/protocol.md).
// Defined once with TypeBox: the TypeScript types, the compiled validator used at the hub's
// boundary and protocol/wire.schema.json for other SDK authors all come from these schemas.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const PROTOCOL_VERSION = 1;
/**
 * The two limits of a frame (docs/protocol.md "Limits"), chosen to agree: 1 000 rows of up to 4 KiB
 * each (about 70 metrics with long layer names) fit in 4 MiB, so a client that keeps to the row
 * limit meets the byte limit only with rows of unusual width; clients should split by encoded size
 * as well (the Python SDK sends frames of at most 512 KiB).
 */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const MAX_ROWS_PER_FRAME = 1000;
/** Steps and seqs are JSON numbers: above 2^53 − 1 two of them can read as one. */
export const MAX_SAFE_INDEX = Number.MAX_SAFE_INTEGER;
export const RUN_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
/** A run's tags: at most this many, each of 1 … 64 characters (docs/compare.md). */
export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 64;

/** JSON has no NaN or Infinity; they travel as these strings (the proto3 JSON convention). */
export const NonFiniteToken = Type.Union(
  [Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')],
  { description: 'A non-finite number', expected: '"NaN"/"Infinity"/"-Infinity"' },
);
export const MetricValue = Type.Union([Type.Number(), NonFiniteToken], {
  description: 'A metric value: a JSON number, or "NaN"/"Infinity"/"-Infinity" for what JSON cannot carry',
  expected: 'number or "NaN"/"Infinity"/"-Infinity"',
});
export type WireNumber = Static<typeof MetricValue>;

const Step = Type.Integer({ minimum: 0, maximum: MAX_SAFE_INDEX, expected: 'integer from 0 to 2^53 − 1' });
const Seq = Type.Integer({ minimum: 0, maximum: MAX_SAFE_INDEX - MAX_ROWS_PER_FRAME, expected: 'integer from 0 to 2^53 − 1 − 1000' });
const Source = Type.Object(
  { file: Type.String({ maxLength: 4096 }), line: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
const JsonConfig = Type.Record(Type.String(), Type.Unknown());

export const ScalarRow = Type.Object({
  step: Step,
  time: Type.Optional(Type.Number()),
  values: Type.Record(Type.String({ minLength: 1, maxLength: 512 }), MetricValue),
  source: Type.Optional(Source),
  rank: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type ScalarRow = Static<typeof ScalarRow>;

/** What a run's SDK can do when the hub asks (docs/rescue.md): the editor offers only these. */
export const RunAction = Type.Union([Type.Literal('checkpoint'), Type.Literal('lower-lr'), Type.Literal('rollback')]);
export type RunAction = Static<typeof RunAction>;

/** A word of the protocol (an action, a mode): a newer SDK's word must not cost it its hello. */
const Word = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', expected: 'a short lowercase word' });

/** A run's rescue policy, as its SDK announces it: with `mode: 'auto'` the hub answers a critical
 * alert with a `rescue` command (src/rescue/autoRescue.ts); the SDK counts and applies it. The
 * Python SDK's modes are 'off' and 'auto', its actions 'rollback' and 'lower-lr'. */
export const RescuePolicy = Type.Object({
  mode: Word,
  action: Type.Optional(Word),
  maxRescues: Type.Optional(Type.Integer({ minimum: 0 })),
  lrFactor: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
});
export type RescuePolicy = Static<typeof RescuePolicy>;

/**
 * In the hello (the latest, on every connection) and in a `capabilities` frame when it changes.
 * `actions` are words; the editor offers those it knows (RunAction) and ignores the rest.
 */
const CapabilityFields = {
  actions: Type.Array(Word, { maxItems: 16 }),
  rescue: Type.Optional(RescuePolicy),
};
export const Capabilities = Type.Object(CapabilityFields);
export type Capabilities = Static<typeof Capabilities>;

export const CapabilitiesFrame = Type.Object({ type: Type.Literal('capabilities'), ...CapabilityFields });
export type CapabilitiesFrame = Static<typeof CapabilitiesFrame>;

export const Hello = Type.Object({
  type: Type.Literal('hello'),
  protocol: Type.Integer({ minimum: 1 }),
  sdk: Type.Optional(Type.String({ maxLength: 200 })),
  run: Type.Optional(
    Type.Object({
      name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
      config: Type.Optional(Type.Union([JsonConfig, Type.Null()])),
      /** Labels to find and group runs by (docs/compare.md); kept as given, duplicates dropped by the store. */
      tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: MAX_TAG_LENGTH }), { maxItems: MAX_TAGS })),
    }),
  ),
  runId: Type.Optional(Type.Union([Type.String({ pattern: RUN_ID_PATTERN }), Type.Null()])),
  host: Type.Optional(Type.String({ maxLength: 255 })),
  pid: Type.Optional(Type.Integer({ minimum: 0 })),
  device: Type.Optional(Type.String({ maxLength: 100 })),
  rank: Type.Optional(Type.Integer({ minimum: 0 })),
  capabilities: Type.Optional(Capabilities),
});
export type Hello = Static<typeof Hello>;

export const Scalars = Type.Object({
  type: Type.Literal('scalars'),
  seq: Type.Optional(Seq),
  dropped: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SAFE_INDEX })),
  rows: Type.Array(ScalarRow, { maxItems: MAX_ROWS_PER_FRAME }),
});
export type Scalars = Static<typeof Scalars>;

export const Distribution = Type.Object({
  type: Type.Literal('distribution'),
  step: Step,
  name: Type.String({ minLength: 1, maxLength: 512 }),
  edges: Type.Array(MetricValue, { maxItems: 4097 }),
  counts: Type.Array(Type.Number({ minimum: 0 }), { maxItems: 4096 }),
});
export type Distribution = Static<typeof Distribution>;

export const Reliability = Type.Object({
  type: Type.Literal('reliability'),
  step: Step,
  name: Type.Optional(Type.String({ maxLength: 512 })),
  edges: Type.Array(Type.Number(), { maxItems: 1025 }),
  confidence: Type.Array(Type.Number(), { maxItems: 1024 }),
  accuracy: Type.Array(Type.Number(), { maxItems: 1024 }),
  counts: Type.Array(Type.Number({ minimum: 0 }), { maxItems: 1024 }),
});
export type Reliability = Static<typeof Reliability>;

export const EventFrame = Type.Object({
  type: Type.Literal('event'),
  step: Type.Optional(Step),
  level: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]),
  message: Type.String({ maxLength: 65536 }),
  /** What the event is about, so a chart can draw it: `checkpoint`, `lr`, `rollback`, `rescue`, or a
   * user's own word. Absent on a plain message. */
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Steps the event covers (a rolled-back span), drawn as a band rather than a line. */
  span: Type.Optional(Type.Object({ from: Step, to: Step })),
});
export type EventFrame = Static<typeof EventFrame>;

export const EndStatus = Type.Union([Type.Literal('completed'), Type.Literal('failed'), Type.Literal('stopped')]);
export const End = Type.Object({
  type: Type.Literal('end'),
  status: EndStatus,
  error: Type.Optional(Type.Union([Type.String({ maxLength: 65536 }), Type.Null()])),
});
export type End = Static<typeof End>;

/** The scalars frame as the boundary first checks it: rows are then checked one by one, so a bad
 * row is refused alone and the good rows of its frame (a NaN loss among them) are kept. */
export const ScalarsEnvelope = Type.Object({
  type: Type.Literal('scalars'),
  seq: Type.Optional(Seq),
  dropped: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SAFE_INDEX })),
  rows: Type.Array(Type.Unknown()),
});

/** Every frame a trainer may send, keyed by `type`. */
export const TRAINER_FRAMES = {
  hello: Hello,
  scalars: Scalars,
  distribution: Distribution,
  reliability: Reliability,
  event: EventFrame,
  capabilities: CapabilitiesFrame,
  end: End,
} as const satisfies Record<string, TSchema>;
export type TrainerFrame = Hello | Scalars | Distribution | Reliability | EventFrame | CapabilitiesFrame | End;
export type TrainerFrameType = TrainerFrame['type'];

export type ErrorCode =
  | 'invalid-json'
  | 'invalid-frame'
  | 'binary-frame'
  | 'unknown-type'
  | 'not-hello'
  | 'step-backwards'
  | 'too-many-rows'
  | 'run-busy'
  | 'bad-run-id'
  | 'protocol-version'
  | 'disk'
  | 'backpressure'
  | 'no-hello'
  | 'already-ended';

/**
 * What the hub asks of a trainer (docs/protocol.md "Hub → trainer", docs/rescue.md). `factor`
 * multiplies the lr (0 < factor ≤ 1: never raised); `step` is the step the alert opened at (the
 * SDK rolls back to its newest snapshot from before it); `skip`, batches to skip after a roll back.
 * `rescue` is the hub's watchdog answering a critical alert on a run whose policy is auto.
 */
export const Command = Type.Union([
  Type.Object({ command: Type.Literal('stop') }),
  Type.Object({ command: Type.Literal('checkpoint') }),
  Type.Object({ command: Type.Literal('lower-lr'), factor: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })) }),
  Type.Object({
    command: Type.Literal('rollback'),
    step: Type.Optional(Step),
    factor: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  }),
  Type.Object({ command: Type.Literal('rescue'), step: Step }),
]);
export type Command = Static<typeof Command>;
export type CommandName = Command['command'];

/** Frames the hub sends to a trainer. */
export type HubFrame =
  | { type: 'welcome'; runId: string; lastSeq: number | null; lastStep: number | null }
  | { type: 'ack'; seq: number }
  | ({ type: 'command' } & Command)
  | { type: 'error'; code: ErrorCode; message: string };

export const HUB_FRAME_SCHEMA = Type.Union([
  Type.Object({
    type: Type.Literal('welcome'),
    runId: Type.String(),
    lastSeq: Type.Union([Type.Integer(), Type.Null()]),
    lastStep: Type.Union([Type.Integer(), Type.Null()]),
  }),
  Type.Object({ type: Type.Literal('ack'), seq: Type.Integer() }),
  ...Command.anyOf.map((c) => Type.Composite([Type.Object({ type: Type.Literal('command') }), c])),
  Type.Object({ type: Type.Literal('error'), code: Type.String(), message: Type.String() }),
]);

/** Close codes the hub uses beyond the standard ones. */
export const CLOSE = {
  badRequest: 4400,
  /** No hello within the hub's deadline after the upgrade. */
  noHello: 4408,
  busy: 4409,
  tooBig: 1009,
  /** The store cannot keep up (full disk, backlog over its bound): reconnect later and re-send. */
  storeFull: 4507,
} as const;
