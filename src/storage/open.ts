import { DUMPER_ENV } from '../contract/dumper-env.js';
import { UserError } from '../errors.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import type { Storage } from './types.js';

export interface OpenStorageOptions {
  /** S3 endpoint URL (MinIO, R2, ...); default `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Default `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `us-east-1`. */
  region?: string;
  /**
   * Path-style addressing (`endpoint/bucket/key`). Default
   * `SNAPKEEPER_S3_FORCE_PATH_STYLE`, else on when a custom endpoint is set
   * (most S3-compatible servers have no wildcard DNS), off for AWS itself.
   */
  forcePathStyle?: boolean;
  /** Where the AWS variables are read from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Parsed `s3://bucket/prefix`. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/**
 * A storage location as users write it: `s3://bucket[/prefix]` for S3, any
 * other string without a `scheme://` for a local directory.
 */
export function openStorage(location: string, options: OpenStorageOptions = {}): Storage {
  const loc = location.trim();
  if (loc === '')
    throw new UserError('storage location is empty: give a directory or s3://bucket/prefix');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(loc)?.[1]?.toLowerCase();
  if (scheme === undefined) return new LocalStorage(loc);
  if (scheme === 'file') return new LocalStorage(decodeURIComponent(loc.slice('file://'.length)));
  if (scheme !== 's3')
    throw new UserError(
      `unsupported storage location ${JSON.stringify(loc)}: use a directory or s3://bucket/prefix`,
    );
  const { bucket, prefix } = parseS3Location(loc);
  const env = options.env ?? process.env;
  const endpoint =
    options.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint))
    throw new UserError(`S3 endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  const region =
    options.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1';
  const pathStyleEnv = nonEmpty(env[DUMPER_ENV.s3ForcePathStyle]);
  const forcePathStyle =
    options.forcePathStyle ??
    (pathStyleEnv !== undefined ? pathStyleEnv === 'true' : endpoint !== undefined);
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
    throw new UserError('set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (IRSA)');
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return new S3Storage({
    bucket,
    prefix,
    endpoint,
    region,
    forcePathStyle,
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
        : undefined,
  });
}

/** `s3://bucket/a/b/` → `{ bucket: 'bucket', prefix: 'a/b' }`; malformed → UserError. */
export function parseS3Location(location: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(location.trim());
  const bucket = m?.[1] ?? '';
  // S3 bucket naming rules (3-63 chars, lower-case letters, digits, dots, hyphens).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new UserError(
      `malformed S3 location ${JSON.stringify(location)}: expected s3://bucket/prefix ` +
        'with a bucket name of 3-63 lower-case letters, digits, dots or hyphens',
    );
  const prefix = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((s) => s === '.' || s === '..') || /\/\//.test(prefix))
    throw new UserError(`malformed S3 location ${JSON.stringify(location)}: bad prefix`);
  return { bucket, prefix };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
