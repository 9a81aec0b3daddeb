import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { LocalStorage } from '../../src/storage/local.js';
import { openStorage, parseS3Location } from '../../src/storage/open.js';
import { S3Storage } from '../../src/storage/s3.js';

describe('openStorage', () => {
  it('given a path, then a local directory', () => {
    expect(openStorage('./backups', { env: {} })).toBeInstanceOf(LocalStorage);
    expect(openStorage('file:///srv/backups', { env: {} }).description).toBe('/srv/backups/');
  });

  it('given s3://bucket/prefix, then S3 with the prefix', async () => {
    const s = openStorage('s3://my-backups/prod/db/', {
      env: {
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
      },
    });
    expect(s).toBeInstanceOf(S3Storage);
    expect(s.description).toBe('s3://my-backups/prod/db/');
    const cfg = (s as S3Storage).client.config;
    expect(cfg.forcePathStyle).toBe(true);
    expect(await cfg.region()).toBe('us-east-1');
  });

  it('given no endpoint, then virtual-host style and the region from the environment', async () => {
    const s = openStorage('s3://my-backups', { env: { AWS_REGION: 'eu-west-3' } }) as S3Storage;
    expect(s.description).toBe('s3://my-backups/');
    expect(s.client.config.forcePathStyle).toBe(false);
    expect(await s.client.config.region()).toBe('eu-west-3');
  });

  it.each([
    ['s3://', /malformed S3 location/],
    ['s3:///prefix', /malformed S3 location/],
    ['s3://B/x', /malformed S3 location/],
    ['s3://bucket/../x', /bad prefix/],
    ['gs://bucket/x', /unsupported storage location/],
    ['', /empty/],
  ])('given %j, then a UserError', (loc, msg) => {
    expect(() => openStorage(loc, { env: {} })).toThrow(UserError);
    expect(() => openStorage(loc, { env: {} })).toThrow(msg);
  });

  it('given only half of the credentials, then a UserError', () => {
    expect(() => openStorage('s3://bucket', { env: { AWS_ACCESS_KEY_ID: 'x' } })).toThrow(/both/);
  });

  it('parses bucket and prefix', () => {
    expect(parseS3Location('s3://b-1.x/a/b/')).toEqual({ bucket: 'b-1.x', prefix: 'a/b' });
  });
});
