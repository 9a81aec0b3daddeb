// Bundles the CLI (src/ and dumpers/) into dist/cli.js and its chunks. Dependencies stay
// external and are resolved from node_modules at run time; type checking is
// `npm run typecheck`.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

// Split: each command's implementation is a chunk of its own (dist/chunks/),
// imported when the command runs, with the packages it needs (src/cli.ts).
await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/main.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
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
