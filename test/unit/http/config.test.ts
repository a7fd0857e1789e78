import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig, logLevelFromEnv, requireOidc } from '../../../lib/config';

const minimal = {
  AWS_REGION: 'eu-west-1',
  VEND_ENTITLEMENTS_TABLE: 'vend-entitlements',
  VEND_AUDIT_TABLE: 'vend-audit',
  VEND_REQUESTS_TABLE: 'vend-requests',
  VEND_LIMITS_TABLE: 'vend-limits',
};

describe('loadConfig', () => {
  it('reads the required values and fills only tuning defaults', () => {
    const cfg = loadConfig(minimal);

    expect(cfg).toEqual({
      region: 'eu-west-1',
      tables: {
        entitlements: 'vend-entitlements',
        audit: 'vend-audit',
        requests: 'vend-requests',
        limits: 'vend-limits',
      },
      oidc: undefined,
      sts: { deadlineMs: 5000, baseDelayMs: 100 },
      entitlementCacheTtlMs: 0,
      logLevel: 'INFO',
      requestTtlSeconds: 3600,
      slack: {
        apiUrl: undefined,
        botToken: undefined,
        signingSecret: undefined,
        appIds: [],
        teamIds: [],
        approversChannel: undefined,
        securityChannel: undefined,
      },
      rateLimits: { windowSeconds: 60, perCaller: 20, perEntitlement: 120, requestsPerCaller: 5 },
    });
  });

  it.each(['VEND_ENTITLEMENTS_TABLE', 'VEND_AUDIT_TABLE', 'VEND_REQUESTS_TABLE', 'VEND_LIMITS_TABLE'])(
    'fails fast naming %s when it is missing or blank',
    (name) => {
      expect(() => loadConfig({ ...minimal, [name]: undefined })).toThrow(
        new ConfigurationError(`Missing required environment variable ${name} (see docs/configuration.md)`),
      );
      expect(() => loadConfig({ ...minimal, [name]: '  ' })).toThrow(ConfigurationError);
    },
  );

  it('falls back to AWS_DEFAULT_REGION, and fails without either', () => {
    expect(loadConfig({ ...minimal, AWS_REGION: undefined, AWS_DEFAULT_REGION: 'us-east-2' }).region).toBe(
      'us-east-2',
    );
    expect(() => loadConfig({ ...minimal, AWS_REGION: undefined })).toThrow(/AWS_DEFAULT_REGION/);
  });

  it('reads tuning values and rejects malformed or out-of-range ones', () => {
    expect(loadConfig({ ...minimal, VEND_STS_DEADLINE_MS: '2500' }).sts.deadlineMs).toBe(2500);
    expect(() => loadConfig({ ...minimal, VEND_STS_DEADLINE_MS: '2.5s' })).toThrow(/VEND_STS_DEADLINE_MS/);
    expect(() => loadConfig({ ...minimal, VEND_STS_DEADLINE_MS: '60000' })).toThrow(/between 100 and 25000/);
  });

  it('reads the rate limits, and rejects malformed or out-of-range ones naming the variable', () => {
    const cfg = loadConfig({
      ...minimal,
      VEND_RATE_LIMIT_WINDOW_SECONDS: '300',
      VEND_RATE_LIMIT_PER_CALLER: '7',
      VEND_RATE_LIMIT_PER_ENTITLEMENT: '70',
      VEND_RATE_LIMIT_REQUESTS_PER_CALLER: '2',
    });
    expect(cfg.rateLimits).toEqual({
      windowSeconds: 300,
      perCaller: 7,
      perEntitlement: 70,
      requestsPerCaller: 2,
    });
    // Empty is unset (serverless.yml passes '' when the deployer sets nothing).
    expect(loadConfig({ ...minimal, VEND_RATE_LIMIT_PER_CALLER: '' }).rateLimits.perCaller).toBe(20);
    expect(() => loadConfig({ ...minimal, VEND_RATE_LIMIT_PER_CALLER: '0' })).toThrow(
      /VEND_RATE_LIMIT_PER_CALLER must be between 1 and 1000000/,
    );
    expect(() => loadConfig({ ...minimal, VEND_RATE_LIMIT_WINDOW_SECONDS: '3601' })).toThrow(
      /VEND_RATE_LIMIT_WINDOW_SECONDS must be between 1 and 3600/,
    );
    expect(() => loadConfig({ ...minimal, VEND_RATE_LIMIT_PER_ENTITLEMENT: '1e3' })).toThrow(
      /VEND_RATE_LIMIT_PER_ENTITLEMENT must be a whole number/,
    );
  });

  it('needs the OIDC issuer and audience together', () => {
    const both = loadConfig({
      ...minimal,
      VEND_OIDC_ISSUER: 'http://127.0.0.1:4566/oidc',
      VEND_OIDC_AUDIENCE: 'vend',
    });

    expect(requireOidc(both)).toEqual({ issuer: 'http://127.0.0.1:4566/oidc', audience: 'vend' });
    expect(() => loadConfig({ ...minimal, VEND_OIDC_ISSUER: 'http://x' })).toThrow(/set together/);
    expect(() => requireOidc(loadConfig(minimal))).toThrow(/VEND_OIDC_ISSUER/);
  });

  it('returns a frozen object', () => {
    const cfg = loadConfig(minimal);

    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.tables)).toBe(true);
  });
});

describe('logLevelFromEnv', () => {
  it('accepts any case and falls back to INFO for unknown values', () => {
    expect(logLevelFromEnv({ VEND_LOG_LEVEL: 'debug' })).toBe('DEBUG');
    expect(logLevelFromEnv({ VEND_LOG_LEVEL: 'loud' })).toBe('INFO');
    expect(logLevelFromEnv({})).toBe('INFO');
  });
});
