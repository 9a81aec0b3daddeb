/**
 * S3 errors in words: whether a conditional write was refused because the
 * key exists or because the server does not implement it, and any SDK or
 * network error as one line saying what went wrong and the likely fix
 * (which endpoint did not answer, which bucket is missing, which
 * credentials were refused). Used by ./s3.ts.
 */
import { describeError } from '../errors.js';

/**
 * A conditional write refused because the key exists: 412 Precondition
 * Failed, or 409 ConditionalRequestConflict (AWS: another conditional write
 * to the key is in flight).
 */
export function isAlreadyThere(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return (
    status === 412 ||
    e.name === 'PreconditionFailed' ||
    (status === 409 && e.name === 'ConditionalRequestConflict')
  );
}

export function isNotImplemented(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.$metadata?.httpStatusCode === 501 || e.name === 'NotImplemented';
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** A network failure in words: who was not there. */
function networkReason(err: unknown, code: string): string {
  const e = err as { address?: string; port?: number; hostname?: string };
  const c = (err as { cause?: typeof e }).cause ?? {};
  const host = e.hostname ?? c.hostname;
  const addr = e.address ?? c.address;
  const port = e.port ?? c.port;
  if (code === 'ECONNREFUSED')
    return `: nothing listens at ${addr ? `${addr}${port ? `:${port}` : ''}` : 'that address'}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `: cannot resolve host ${host ?? 'of that endpoint'}`;
  return '';
}

export function explainS3Error(err: unknown, bucket: string, endpoint: string): string {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    cause?: { code?: string };
  };
  const code = e.code ?? e.cause?.code;
  if (e.name === 'NoSuchBucket') return `bucket ${bucket} does not exist`;
  if (code && networkCodes.has(code))
    return `cannot reach S3 endpoint ${endpoint} (${code})${networkReason(err, code)}`;
  // OpenSSL read a plain HTTP answer as a TLS record ("wrong version number").
  if (code === 'EPROTO' || /SSL routines|ERR_SSL_/.test(e.message ?? ''))
    return `the server at ${endpoint} does not speak TLS (is it http://?)`;
  if (e.name === 'TimeoutError') return `cannot reach S3 endpoint ${endpoint} (timeout)`;
  if (e.name === 'CredentialsProviderError')
    return (
      'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ' +
      'or run with a role (IRSA / Workload Identity)'
    );
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied'].includes(e.name ?? ''))
    return `access to bucket ${bucket} denied (${e.name}): check the S3 credentials`;
  const status = e.$metadata?.httpStatusCode;
  const msg = describeError(err);
  return status ? `${msg} (HTTP ${status})` : msg;
}
