// Builds the three bundles: the extension host (Node, `vscode` external), the CLI and the webviews.
import * as esbuild from 'esbuild';
import { chmod, mkdir } from 'node:fs/promises';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'info', legalComments: 'none' };

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['webview/live/main.ts'], outfile: 'dist/webview/live.js', platform: 'browser', format: 'iife', target: 'chrome120' },
  { ...common, entryPoints: ['webview/dashboard/main.ts'], outfile: 'dist/webview/dashboard.js', platform: 'browser', format: 'iife', target: 'chrome120' },
  { ...common, entryPoints: ['webview/compare/main.ts'], outfile: 'dist/webview/compare.js', platform: 'browser', format: 'iife', target: 'chrome120' },
];

await mkdir('dist', { recursive: true });
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  await chmod('dist/cli.js', 0o755);
}
