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

export const Hello = Type.Object({
  type: Type.Literal('hello'),
  protocol: Type.Integer({ minimum: 1 }),
  sdk: Type.Optional(Type.String({ maxLength: 200 })),
  run: Type.Optional(
    Type.Object({
      name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
      config: Type.Optional(Type.Union([JsonConfig, Type.Null()])),
    }),
  ),
  runId: Type.Optional(Type.Union([Type.String({ pattern: RUN_ID_PATTERN }), Type.Null()])),
  host: Type.Optional(Type.String({ maxLength: 255 })),
  pid: Type.Optional(Type.Integer({ minimum: 0 })),
  device: Type.Optional(Type.String({ maxLength: 100 })),
  rank: Type.Optional(Type.Integer({ minimum: 0 })),
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
  end: End,
} as const satisfies Record<string, TSchema>;
export type TrainerFrame = Hello | Scalars | Distribution | Reliability | EventFrame | End;
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

/** Frames the hub sends to a trainer. */
export type HubFrame =
  | { type: 'welcome'; runId: string; lastSeq: number | null; lastStep: number | null }
  | { type: 'ack'; seq: number }
  | { type: 'command'; command: 'stop' | 'checkpoint' }
  | { type: 'error'; code: ErrorCode; message: string };

export const HUB_FRAME_SCHEMA = Type.Union([
  Type.Object({
    type: Type.Literal('welcome'),
    runId: Type.String(),
    lastSeq: Type.Union([Type.Integer(), Type.Null()]),
    lastStep: Type.Union([Type.Integer(), Type.Null()]),
  }),
  Type.Object({ type: Type.Literal('ack'), seq: Type.Integer() }),
  Type.Object({ type: Type.Literal('command'), command: Type.Union([Type.Literal('stop'), Type.Literal('checkpoint')]) }),
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
