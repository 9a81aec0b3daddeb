declare const SNAPKEEPER_VERSION: string | undefined;

/** The version baked in at build time (scripts/build.mjs), or a dev marker under tests. */
export const VERSION: string =
  typeof SNAPKEEPER_VERSION === 'string' ? SNAPKEEPER_VERSION : '0.0.0-dev';
