// Writes the `lossradar.detect.*` settings of package.json from the detectors' defaults and docs,
// so the settings editor and the code never disagree. `--check` fails when package.json is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_SETTINGS, SETTING_DOCS, type DetectorSettings } from '../src/detect/settings';

export function withDetectorSettings(manifest: { contributes: { configuration: { properties: Record<string, unknown> } } }): string {
  const properties = manifest.contributes.configuration.properties;
  for (const key of Object.keys(properties)) if (key.startsWith('lossradar.detect.')) delete properties[key];
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof DetectorSettings)[]) {
    const value = DEFAULT_SETTINGS[key];
    properties[`lossradar.detect.${key}`] = { type: Number.isInteger(value) ? 'integer' : 'number', default: value, minimum: 0, description: SETTING_DOCS[key] };
  }
  return JSON.stringify(manifest, null, 2) + '\n';
}

if (process.argv[1]?.endsWith('sync-settings.ts')) {
  const current = readFileSync('package.json', 'utf8');
  const next = withDetectorSettings(JSON.parse(current));
  if (process.argv.includes('--check')) {
    if (next !== current) {
      process.stderr.write('package.json lossradar.detect.* settings are stale: run node --import tsx scripts/sync-settings.ts\n');
      process.exit(1);
    }
  } else writeFileSync('package.json', next);
}
