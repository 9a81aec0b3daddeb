/**
 * The storage key template, as the operator and the dumper both take it.
 * Default:
 *
 *   {namespace}/{workload}/{timestamp}/{database}.{ext}
 *
 * Placeholders: {namespace} {workload} {kind} {type} {timestamp}
 * ({YYYY}{MM}{DD}{hh}{mm}{ss} of the same instant, UTC) {database} {ext}.
 * A ksnapshot-like layout is `{YYYY}/{MM}/{DD}/{type}/{namespace}-{workload}/{timestamp}/{database}.{ext}`.
 *
 * One backup is one directory: every object of a run and its manifest.json
 * share the directory part of the key, so the directory part must contain
 * {timestamp} and neither {database} nor {ext}, and the file part must
 * contain both.
 *
 * This module is the one definition of the default and the check: the
 * operator (src/config/operator.ts, SNAPKEEPER_KEY_TEMPLATE of the chart) and
 * the dumper (src/dump/config.ts, the CronJob's SNAPKEEPER_KEY_TEMPLATE;
 * `backup --key-template` through validateKeyTemplate) both call
 * checkKeyTemplate on the trimmed value, so a template the operator puts on a
 * CronJob is one its Jobs run with. Rendering: src/dump/key.ts.
 */

export const DEFAULT_KEY_TEMPLATE = '{namespace}/{workload}/{timestamp}/{database}.{ext}';

/** Every placeholder a template may use, without braces. */
export const KEY_PLACEHOLDERS: readonly string[] = [
  'namespace',
  'workload',
  'kind',
  'type',
  'timestamp',
  'YYYY',
  'MM',
  'DD',
  'hh',
  'mm',
  'ss',
  'database',
  'ext',
];
const PLACEHOLDERS = new Set(KEY_PLACEHOLDERS);

/**
 * Problems with a template, one string each; [] when it is usable: every key
 * it renders is a valid storage key (src/storage/errors.ts checkKey), one
 * directory per backup.
 */
export function checkKeyTemplate(template: string): string[] {
  const problems: string[] = [];
  if (template.trim() === '') return ['is empty'];
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.has(m[1]!)) problems.push(`unknown placeholder {${m[1]}}`);
  }
  if (/^\/|\/$|\/\//.test(template)) problems.push('no leading, trailing or double "/"');
  if (template.split('/').some((s) => s === '.' || s === '..'))
    problems.push('no "." or ".." path segment');
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(template)) problems.push('no backslash or control character');
  const slash = template.lastIndexOf('/');
  const dir = slash < 0 ? '' : template.slice(0, slash);
  const file = template.slice(slash + 1);
  if (!dir.includes('{timestamp}'))
    problems.push('the directory part must contain {timestamp} (one directory per backup)');
  for (const p of ['{database}', '{ext}']) {
    if (!file.includes(p)) problems.push(`the file name part must contain ${p}`);
    if (dir.includes(p)) problems.push(`${p} may only appear in the file name part`);
  }
  return [...new Set(problems)];
}
