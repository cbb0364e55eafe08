// Writes the JSON Schemas generated from the TypeBox definitions: the wire protocol, for SDK
// authors in other languages, and the experiment file, for the editor's IntelliSense.
// `--check` fails when a committed file differs from what the definitions give.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { HUB_FRAME_SCHEMA, PROTOCOL_VERSION, TRAINER_FRAMES } from '../src/protocol/wire';
import { ExperimentSchema } from '../src/launch/experiments';

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

export function schemas(): Record<string, string> {
  const wire = {
    $schema: DRAFT,
    $id: 'https://lossradar.invalid/protocol/wire-v1.schema.json',
    title: `Loss Radar wire protocol v${PROTOCOL_VERSION}`,
    description: 'JSON text frames between a trainer and the Loss Radar hub. See docs/protocol.md.',
    $defs: { TrainerFrame: Type.Union(Object.values(TRAINER_FRAMES)), HubFrame: HUB_FRAME_SCHEMA },
    oneOf: [{ $ref: '#/$defs/TrainerFrame' }, { $ref: '#/$defs/HubFrame' }],
  };
  // draft-07 for the editor: VS Code's JSON language service validates it fully.
  const experiment = { $schema: 'http://json-schema.org/draft-07/schema#', ...ExperimentSchema };
  return {
    'protocol/wire.schema.json': JSON.stringify(wire, null, 2) + '\n',
    'protocol/experiment.schema.json': JSON.stringify(experiment, null, 2) + '\n',
  };
}

const check = process.argv.includes('--check');
if (process.argv[1]?.endsWith('wire-schema.ts')) {
  mkdirSync('protocol', { recursive: true });
  for (const [file, text] of Object.entries(schemas())) {
    if (!check) writeFileSync(file, text);
    else if (readFileSync(file, 'utf8') !== text) {
      process.stderr.write(`${file} is stale: run npm run build\n`);
      process.exit(1);
    }
  }
}
