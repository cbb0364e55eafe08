// Writes protocol/wire.schema.json from the TypeBox definitions, for SDK authors in other languages.
// `--check` fails when the committed file differs from what the definitions give.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { HUB_FRAME_SCHEMA, PROTOCOL_VERSION, TRAINER_FRAMES } from '../src/protocol/wire';

export function wireSchema(): string {
  const trainer = Type.Union(Object.values(TRAINER_FRAMES));
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://lossradar.invalid/protocol/wire-v1.schema.json',
    title: `Loss Radar wire protocol v${PROTOCOL_VERSION}`,
    description: 'JSON text frames between a trainer and the Loss Radar hub. See docs/protocol.md.',
    $defs: { TrainerFrame: trainer, HubFrame: HUB_FRAME_SCHEMA },
    oneOf: [{ $ref: '#/$defs/TrainerFrame' }, { $ref: '#/$defs/HubFrame' }],
  };
  return JSON.stringify(schema, null, 2) + '\n';
}

const target = 'protocol/wire.schema.json';
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== wireSchema()) {
    process.stderr.write(`${target} is stale: run npm run build\n`);
    process.exit(1);
  }
} else if (process.argv[1]?.endsWith('wire-schema.ts')) {
  mkdirSync('protocol', { recursive: true });
  writeFileSync(target, wireSchema());
}
