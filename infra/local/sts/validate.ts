/**
 * AssumeRole parameters: decoded from the Query request and checked against the model
 * constraints of fact sheet §1, with messages in the Coral format real STS (and the emulators
 * that copy it) use: `Value '<v>' at '<member>' failed to satisfy constraint: <rule>`.
 */
import { StsValidationError } from './errors';
import { type QueryParams, scalarList, structList } from './query';

export interface AssumeRoleParams {
  roleArn: string;
  roleSessionName: string;
  policyArns?: string[];
  policy?: string;
  durationSeconds?: number;
  tags?: Array<{ key: string; value: string }>;
  transitiveTagKeys?: string[];
  externalId?: string;
  serialNumber?: string;
  tokenCode?: string;
  sourceIdentity?: string;
}

/** The documented plaintext limit of the inline session policy (the model dropped its max). */
export const POLICY_PLAINTEXT_LIMIT = 2048;
export const MAX_POLICY_ARNS = 10;

const SESSION_NAME = /^[\w+=,.@-]*$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]*$/;
const SERIAL = /^[\w+=/:,.@-]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the model's pattern allows tab, LF and CR.
const POLICY_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

interface Rule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  patternText?: string;
  /** Secrets are never echoed in messages (house rule), even though AWS would. */
  secret?: boolean;
}

class Checker {
  readonly issues: string[] = [];

  string(member: string, value: string | undefined, rule: Rule): void {
    if (value === undefined) return;
    const shown = rule.secret ? '***' : value;
    const length = [...value].length;
    if (rule.min !== undefined && length < rule.min) {
      this.fail(shown, member, `Member must have length greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && length > rule.max) {
      this.fail(shown, member, `Member must have length less than or equal to ${rule.max}`);
    }
    if (rule.pattern && value !== '' && !rule.pattern.test(value)) {
      this.fail(shown, member, `Member must satisfy regular expression pattern: ${rule.patternText}`);
    }
  }

  required(member: string, value: string | undefined): void {
    if (value === undefined)
      this.issues.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }

  listLength(member: string, value: unknown[] | undefined, max: number, show: string): void {
    if (value !== undefined && value.length > max) {
      this.fail(show, member, `Member must have length less than or equal to ${max}`);
    }
  }

  fail(shown: string, member: string, constraint: string): void {
    this.issues.push(`Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`);
  }
}

/** Reads and validates AssumeRole's parameters; throws {@link StsValidationError} listing all issues. */
export function readAssumeRoleParams(params: QueryParams): AssumeRoleParams {
  const c = new Checker();
  const roleArn = params.get('RoleArn');
  const roleSessionName = params.get('RoleSessionName');
  c.required('roleArn', roleArn);
  c.string('roleArn', roleArn, { min: 20, max: 2048 });
  c.required('roleSessionName', roleSessionName);
  c.string('roleSessionName', roleSessionName, {
    min: 2,
    max: 64,
    pattern: SESSION_NAME,
    patternText: '[\\w+=,.@-]*',
  });

  const policyArnStructs = structList(params, 'PolicyArns');
  const policyArns = policyArnStructs?.map((s) => s.arn ?? '');
  policyArns?.forEach((arn, i) => {
    c.string(`policyArns.${i + 1}.member.arn`, arn, { min: 20, max: 2048 });
  });

  const policy = params.get('Policy');
  c.string('policy', policy, {
    min: 1,
    max: POLICY_PLAINTEXT_LIMIT,
    pattern: POLICY_CHARS,
    patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+',
  });

  let durationSeconds: number | undefined;
  const rawDuration = params.get('DurationSeconds');
  if (rawDuration !== undefined) {
    if (!/^-?\d+$/.test(rawDuration)) {
      c.fail(rawDuration, 'durationSeconds', 'Member must be an integer');
    } else {
      durationSeconds = Number(rawDuration);
      if (durationSeconds < 900)
        c.fail(rawDuration, 'durationSeconds', 'Member must have value greater than or equal to 900');
      if (durationSeconds > 43200)
        c.fail(rawDuration, 'durationSeconds', 'Member must have value less than or equal to 43200');
    }
  }

  const tags = structList(params, 'Tags')?.map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' }));
  c.listLength('tags', tags, 50, `[${tags?.length ?? 0} tags]`);
  tags?.forEach((t, i) => {
    c.string(`tags.${i + 1}.member.key`, t.key, {
      min: 1,
      max: 128,
      pattern: TAG_KEY,
      patternText: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+',
    });
    c.string(`tags.${i + 1}.member.value`, t.value, {
      min: 0,
      max: 256,
      pattern: TAG_VALUE,
      patternText: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*',
    });
  });

  const transitiveTagKeys = scalarList(params, 'TransitiveTagKeys');
  c.listLength('transitiveTagKeys', transitiveTagKeys, 50, `[${transitiveTagKeys?.length ?? 0} keys]`);
  transitiveTagKeys?.forEach((k, i) => {
    c.string(`transitiveTagKeys.${i + 1}.member`, k, {
      min: 1,
      max: 128,
      pattern: TAG_KEY,
      patternText: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+',
    });
  });

  const externalId = params.get('ExternalId');
  c.string('externalId', externalId, {
    min: 2,
    max: 1224,
    pattern: EXTERNAL_ID,
    patternText: '[\\w+=,.@:\\/-]*',
    secret: true,
  });
  const serialNumber = params.get('SerialNumber');
  c.string('serialNumber', serialNumber, {
    min: 9,
    max: 256,
    pattern: SERIAL,
    patternText: '[\\w+=/:,.@-]*',
  });
  const tokenCode = params.get('TokenCode');
  c.string('tokenCode', tokenCode, { min: 6, max: 6, pattern: /^\d*$/, patternText: '[\\d]*', secret: true });
  const sourceIdentity = params.get('SourceIdentity');
  c.string('sourceIdentity', sourceIdentity, {
    min: 2,
    max: 64,
    pattern: SESSION_NAME,
    patternText: '[\\w+=,.@-]*',
  });

  if (c.issues.length > 0) throw new StsValidationError(c.issues);
  return {
    roleArn: roleArn!,
    roleSessionName: roleSessionName!,
    ...(policyArns !== undefined && { policyArns }),
    ...(policy !== undefined && { policy }),
    ...(durationSeconds !== undefined && { durationSeconds }),
    ...(tags !== undefined && { tags }),
    ...(transitiveTagKeys !== undefined && { transitiveTagKeys }),
    ...(externalId !== undefined && { externalId }),
    ...(serialNumber !== undefined && { serialNumber }),
    ...(tokenCode !== undefined && { tokenCode }),
    ...(sourceIdentity !== undefined && { sourceIdentity }),
  };
}
