// Bundles the CLI (src/ and dumpers/) into dist/cli.js. Dependencies stay
// external and are resolved from node_modules at run time; type checking is
// `npm run typecheck`.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
  define: { SNAPKEEPER_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
