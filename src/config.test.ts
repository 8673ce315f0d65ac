import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('fills every default from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      maxFrameBytes: 65_536,
      outboundBufferFrames: 256,
      heartbeatIntervalMs: 30_000,
      turnConcurrency: 10,
      turnQueueSize: 100,
      tokenPacingMs: 30,
      toolTimeoutMs: 10_000,
      turnTimeoutMs: 300_000,
      defaultModel: 'offline',
      openaiApi: 'chat',
      modelFirstByteTimeoutMs: 60_000,
      modelIdleTimeoutMs: 30_000,
      userTokenBudget: 0,
      maxSteps: 8,
      overlapPolicy: 'queue',
      shutdownGraceMs: 10_000,
      devMode: true,
    });
  });

  it('turns development mode off by default when a JWT key is set or the host is public', () => {
    expect(loadConfig({ PARLEY_JWT_SECRET: 'x'.repeat(32) }).devMode).toBe(false);
    expect(loadConfig({ HOST: '0.0.0.0' }).devMode).toBe(false);
    expect(loadConfig({ HOST: '0.0.0.0', PARLEY_DEV_MODE: '1' }).devMode).toBe(true);
  });

  it('parses lists and numbers from strings, and overrides win over the environment', () => {
    const config = loadConfig(
      { PARLEY_ALLOWED_ORIGINS: 'https://a.example, https://b.example', PORT: '9000' },
      { port: 0 },
    );
    expect(config.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.port).toBe(0);
  });

  it('reads PARLEY_LOG_MAX_AGE in seconds or with a unit, off by default', () => {
    expect(loadConfig({}).logMaxAgeMs).toBe(0);
    expect(loadConfig({ PARLEY_LOG_MAX_AGE: '90' }).logMaxAgeMs).toBe(90_000);
    expect(loadConfig({ PARLEY_LOG_MAX_AGE: '15m' }).logMaxAgeMs).toBe(900_000);
    expect(loadConfig({ PARLEY_LOG_MAX_AGE: '30d' }).logMaxAgeMs).toBe(2_592_000_000);
    expect(() => loadConfig({ PARLEY_LOG_MAX_AGE: '3 weeks' })).toThrow(/PARLEY_LOG_MAX_AGE/);
  });

  it('names each invalid variable and what was expected', () => {
    const attempt = () =>
      loadConfig({ PORT: 'eighty', PARLEY_OVERLAP_POLICY: 'drop', PARLEY_TURN_CONCURRENCY: '0' });
    expect(attempt).toThrow(RangeError);
    expect(attempt).toThrow(/PORT="eighty": expected a whole number/);
    expect(attempt).toThrow(/PARLEY_OVERLAP_POLICY="drop": .*"queue"\|"interrupt"/);
    expect(attempt).toThrow(/PARLEY_TURN_CONCURRENCY="0": .*>=1/);
  });

  it('validates settings given in code with the same schema, and refuses unknown ones', () => {
    expect(() => loadConfig({}, { turnConcurrency: 0 })).toThrow(
      new RangeError(
        'Invalid configuration: config.turnConcurrency=0: Too small: expected number to be >=1',
      ),
    );
    expect(() => loadConfig({}, { overlapPolicy: 'drop' as never })).toThrow(RangeError);
    expect(() => loadConfig({}, { devMode: 'yes' as never })).toThrow(RangeError);
    expect(() => loadConfig({}, { nope: 1 } as never)).toThrow(
      new TypeError('Unknown configuration option "nope".'),
    );
    expect(loadConfig({}, { allowedOrigins: ['https://a.example'], devMode: false })).toMatchObject(
      { allowedOrigins: ['https://a.example'], devMode: false },
    );
  });

  it('never shows a secret in its error, only that it was wrong', () => {
    const secret = 'short-secret';
    const attempt = () => loadConfig({ PARLEY_JWT_SECRET: secret });
    expect(attempt).toThrow(/PARLEY_JWT_SECRET=\(hidden, 12 characters\): Too small/);
    expect(attempt).not.toThrow(new RegExp(secret));
    expect(() => loadConfig({}, { inspectorToken: secret })).not.toThrow(new RegExp(secret));
  });

  it('refuses PARLEY_LOG_MAX_AGE in cluster mode, and takes it with PostgreSQL alone', () => {
    const database = 'postgres://postgres@127.0.0.1:5432/test';
    expect(() =>
      loadConfig({
        PARLEY_REDIS_URL: 'redis://127.0.0.1:6379',
        PARLEY_DB: database,
        PARLEY_LOG_MAX_AGE: '30d',
      }),
    ).toThrow(/PARLEY_LOG_MAX_AGE is not available in cluster mode \(PARLEY_REDIS_URL is set\)/);
    expect(loadConfig({ PARLEY_DB: database, PARLEY_LOG_MAX_AGE: '30d' }).logMaxAgeMs).toBe(
      30 * 86_400_000,
    );
  });

  it('refuses cluster mode on SQLite or memory, naming both variables; PostgreSQL alone is one node', () => {
    for (const database of ['memory', './data/parley.db']) {
      expect(() =>
        loadConfig({ PARLEY_REDIS_URL: 'redis://127.0.0.1:6379', PARLEY_DB: database }),
      ).toThrow(
        /cluster mode \(PARLEY_REDIS_URL is set\) needs the PostgreSQL event log.*PARLEY_DB=postgres/,
      );
    }
    const cluster = loadConfig({
      PARLEY_REDIS_URL: 'redis://127.0.0.1:6379',
      PARLEY_DB: 'postgres://postgres@127.0.0.1:5432/test',
      PARLEY_LEASE_MS: '2500',
    });
    expect(cluster).toMatchObject({
      leaseMs: 2500,
      redisPrefix: 'parley:',
      databaseSchema: 'parley',
    });
    expect(loadConfig({ PARLEY_DB: 'postgres://db/parley' }).redisUrl).toBeUndefined();
    expect(() => loadConfig({ PARLEY_REDIS_URL: 'http://x' })).toThrow(/PARLEY_REDIS_URL=\(hidden/);
    expect(() => loadConfig({ PARLEY_LEASE_MS: '5' })).toThrow(/PARLEY_LEASE_MS/);
  });
});
