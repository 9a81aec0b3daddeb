// The images cannot be built here (no container engine), so this checks what
// can be checked from the files: every image `make images` builds has a
// Dockerfile; each runs the same CLI the tests run, as a numeric non-root
// user, downloads nothing architecture-specific, and is the image the chart
// points at.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../env/paths.js';

interface Stage {
  from: string;
  lines: string[];
}

/** Dockerfile instructions (continuations joined, comments dropped), by stage. */
function stages(text: string): Stage[] {
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const out: Stage[] = [];
  for (const line of instructions) {
    if (/^FROM\s/i.test(line)) out.push({ from: line, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

function instruction(stage: Stage, name: string): string[] {
  return stage.lines
    .filter((l) => l.toUpperCase().startsWith(`${name} `))
    .map((l) => l.slice(name.length + 1).trim());
}

async function makeImages(): Promise<string[]> {
  const makefile = await readFile(join(repoRoot, 'Makefile'), 'utf8');
  const m = /^IMAGES := (.+)$/m.exec(makefile);
  if (!m) throw new Error('Makefile defines no IMAGES');
  return m[1]!.trim().split(/\s+/);
}

const images = await makeImages();

describe('images', () => {
  it('make images builds one image per Dockerfile in images/, operator and every engine', async () => {
    const files = (await readdir(join(repoRoot, 'images'))).filter((f) =>
      f.endsWith('.Dockerfile'),
    );
    expect(files.map((f) => f.replace(/\.Dockerfile$/, '')).sort()).toEqual([...images].sort());
    expect(images).toEqual(
      expect.arrayContaining([
        'operator',
        'dumper-postgresql',
        'dumper-mysql',
        'dumper-mariadb',
        'dumper-elasticsearch',
      ]),
    );
  });

  it.each(images)('%s: runs dist/cli.js as a numeric non-root user, multi-arch', async (image) => {
    const text = await readFile(join(repoRoot, 'images', `${image}.Dockerfile`), 'utf8');
    const all = stages(text);
    const final = all.at(-1)!;
    const users = instruction(final, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.split(':');
    expect(uid).toMatch(/^[1-9][0-9]*$/);
    if (gid !== undefined) expect(gid).toMatch(/^[1-9][0-9]*$/);
    // USER is the last word on who runs: nothing after it switches back.
    expect(final.lines.findIndex((l) => /^USER /i.test(l))).toBeGreaterThan(
      final.lines.findLastIndex((l) => /^RUN /i.test(l)),
    );
    expect(instruction(final, 'ENTRYPOINT')).toEqual(['["node", "/app/dist/cli.js"]']);
    expect(instruction(final, 'CMD')).toEqual([image === 'operator' ? '["operator"]' : '["dump"]']);
    expect(instruction(final, 'COPY')).toContain('--from=build /src/dist ./dist');
    // HOME in /tmp: the only writable place under a read-only root.
    expect(instruction(final, 'ENV').join(' ')).toMatch(/HOME=\/tmp/);
    // Multi-arch: no pinned platform, no architecture in a download.
    expect(text).not.toMatch(/--platform=|amd64|x86_64|aarch64/);
    expect(text).not.toMatch(/\b(curl|wget)\b/);
    // The build stage builds the CLI the tests run.
    const build = all.find((s) => / AS build$/i.test(s.from));
    expect(build?.lines).toContain(
      'RUN npm run build && npm prune --omit=dev --no-audit --no-fund',
    );
  });

  it('the PostgreSQL and MariaDB dumpers carry the server restore-test starts, and a name for uid 65532', async () => {
    const runOf = async (image: string) =>
      instruction(
        stages(await readFile(join(repoRoot, 'images', `${image}.Dockerfile`), 'utf8')).at(-1)!,
        'RUN',
      ).join('\n');
    const pg = await runOf('dumper-postgresql');
    // the newest major's server beside the clients, no cluster made at install
    expect(pg).toMatch(/pkgs="postgresql-\$newest"/);
    expect(pg).toMatch(/create_main_cluster\) .*= false/);
    expect(pg).toMatch(/initdb --version/);
    const my = await runOf('dumper-mariadb');
    expect(my).toMatch(/--no-install-recommends [^;]*\bmariadb-server-core\b/);
    for (const run of [pg, my]) {
      // initdb refuses a uid without a passwd entry; USER stays numeric
      expect(run).toMatch(/useradd --uid 65532 --gid 65532 /);
    }
  });

  it('the commands the images run exist in the CLI', async () => {
    for (const [file, command] of [
      ['operator.ts', 'operator'],
      ['dump.ts', 'dump'],
    ] as const) {
      const src = await readFile(join(repoRoot, 'src', 'cli', file), 'utf8');
      expect(src).toContain(`.command('${command}')`);
    }
  });

  it('the chart points at the images make images builds', async () => {
    const values = await readFile(join(repoRoot, 'charts', 'snapkeeper', 'values.yaml'), 'utf8');
    const repos = [...values.matchAll(/repository: ghcr\.io\/snapkeeper\/(\S+)/g)].map(
      (m) => m[1]!,
    );
    expect(repos.sort()).toEqual([...images].sort());
    const makefile = await readFile(join(repoRoot, 'Makefile'), 'utf8');
    expect(makefile).toMatch(/^IMAGE_REPO \?= ghcr\.io\/snapkeeper$/m);
  });
});
