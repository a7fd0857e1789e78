/**
 * KMS on the local AWS endpoint (CONTRACT §2): the JSON 1.1 protocol (`X-Amz-Target:
 * TrentService.<Operation>`), SigV4 with signing name `kms` verified against the IAM store, and the
 * operations vend's audit signer uses: `Sign`, `Verify`, `GetPublicKey` and `DescribeKey`, on
 * `ECC_NIST_P256` keys with `ECDSA_SHA_256`, `MessageType` `RAW` or `DIGEST`. Refusals carry KMS's
 * error types (NotFoundException, ValidationException, InvalidKeyUsageException,
 * KMSInvalidSignatureException, AccessDeniedException, UnknownOperationException …) so that the AWS
 * SDK, the AWS CLI and boto3 raise what they would raise against AWS.
 *
 * Authorization is the account boundary only: any principal of the key's account may use it (no key
 * policies, no grants, locally). That keeps `vend audit seal` working under the `vend-broker`
 * profile; in AWS only the sealer's role may sign (serverless.yml).
 */
import { sign as nodeSign, verify as nodeVerify, randomUUID } from 'node:crypto';
import type { IamStore } from '../iam/store';
import { endpointVerifier, type RequestVerifier, toJsonServiceError } from '../sigv4/verify';
import type { KeyRecord, RawRequest, RawResponse } from '../types';
import { signDigest, verifyDigest } from './ecdsa-p256';
import { KmsError, type LocalKms, type LocalKmsKey } from './keyring';

const TARGET_PREFIX = 'TrentService.';
const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
  'SM2DSA',
  'ML_DSA_SHAKE_256',
];
const MESSAGE_TYPES = ['RAW', 'DIGEST', 'EXTERNAL_MU'];
const KEY_SPEC = 'ECC_NIST_P256';

/** Whether a request is for KMS (JSON 1.1 target `TrentService.*`). */
export function isKmsRequest(req: RawRequest): boolean {
  return (req.headers['x-amz-target'] ?? '').startsWith(TARGET_PREFIX);
}

type Input = Record<string, unknown>;

/** Collects constraint violations and reports them as KMS does, all in one ValidationException. */
class Violations {
  private readonly list: string[] = [];
  add(text: string): void {
    this.list.push(text);
  }
  required(input: Input, field: string, member: string): unknown {
    const v = input[field];
    if (v === undefined || v === null)
      this.add(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
    return v ?? undefined;
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const n = this.list.length;
    throw new KmsError(
      'ValidationException',
      `${n} validation error${n === 1 ? '' : 's'} detected: ${this.list.join('; ')}`,
    );
  }
}

function stringField(
  v: Violations,
  input: Input,
  field: string,
  member: string,
  max: number,
): string | undefined {
  const value = v.required(input, field, member);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new KmsError('SerializationException', `${field} must be a string`);
  if (value.length < 1)
    v.add(
      `Value '${value}' at '${member}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    );
  if (value.length > max)
    v.add(
      `Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  return value;
}

function blobField(
  v: Violations,
  input: Input,
  field: string,
  member: string,
  max: number,
): Buffer | undefined {
  const value = v.required(input, field, member);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
    throw new KmsError('SerializationException', `${field} must be base64-encoded`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < 1)
    v.add(
      `Value at '${member}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    );
  if (bytes.length > max)
    v.add(
      `Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  return bytes;
}

function enumField(
  v: Violations,
  input: Input,
  field: string,
  member: string,
  values: string[],
  required: boolean,
): string | undefined {
  const value = required ? v.required(input, field, member) : input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !values.includes(value)) {
    v.add(
      `Value '${String(value)}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
    );
    return undefined;
  }
  return value;
}

/** The signing inputs Sign and Verify share, validated; the message reduced to its SHA-256 digest. */
function signingInput(kms: LocalKms, caller: KeyRecord, input: Input, action: 'Sign' | 'Verify') {
  const v = new Violations();
  const keyId = stringField(v, input, 'KeyId', 'keyId', 2048);
  const message = blobField(v, input, 'Message', 'message', 4096);
  const messageType = enumField(v, input, 'MessageType', 'messageType', MESSAGE_TYPES, false) ?? 'RAW';
  const algorithm = enumField(v, input, 'SigningAlgorithm', 'signingAlgorithm', SIGNING_ALGORITHMS, true);
  const signature = action === 'Verify' ? blobField(v, input, 'Signature', 'signature', 6144) : undefined;
  v.throwIfAny();
  const key = kms.resolve(caller.principal.account, keyId!, action, caller.principal.arn);
  if (algorithm !== 'ECDSA_SHA_256') {
    throw new KmsError(
      'InvalidKeyUsageException',
      `The signing algorithm ${algorithm} is not compatible with key ${key.arn}, whose key spec is ${KEY_SPEC}`,
    );
  }
  if (messageType === 'EXTERNAL_MU') {
    throw new KmsError(
      'ValidationException',
      `MessageType EXTERNAL_MU is not supported for key spec ${KEY_SPEC}`,
    );
  }
  if (messageType === 'DIGEST' && message!.length !== 32) {
    throw new KmsError('ValidationException', 'Digest is invalid length for algorithm ECDSA_SHA_256.');
  }
  if (input.DryRun === true) {
    throw new KmsError(
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  }
  return { key, message: message!, messageType, algorithm, signature };
}

function keyMetadata(key: LocalKmsKey): Record<string, unknown> {
  return {
    AWSAccountId: key.account,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.creationDate.getTime() / 1000,
    Enabled: true,
    Description: key.description,
    KeyUsage: 'SIGN_VERIFY',
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: KEY_SPEC,
    KeySpec: KEY_SPEC,
    SigningAlgorithms: ['ECDSA_SHA_256'],
    MultiRegion: false,
  };
}

type Operation = (kms: LocalKms, caller: KeyRecord, input: Input) => Record<string, unknown>;

const OPERATIONS: Record<string, Operation> = {
  DescribeKey(kms, caller, input) {
    const v = new Violations();
    const keyId = stringField(v, input, 'KeyId', 'keyId', 2048);
    v.throwIfAny();
    return {
      KeyMetadata: keyMetadata(
        kms.resolve(caller.principal.account, keyId!, 'DescribeKey', caller.principal.arn),
      ),
    };
  },
  GetPublicKey(kms, caller, input) {
    const v = new Violations();
    const keyId = stringField(v, input, 'KeyId', 'keyId', 2048);
    v.throwIfAny();
    const key = kms.resolve(caller.principal.account, keyId!, 'GetPublicKey', caller.principal.arn);
    return {
      KeyId: key.arn,
      PublicKey: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      CustomerMasterKeySpec: KEY_SPEC,
      KeySpec: KEY_SPEC,
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    };
  },
  Sign(kms, caller, input) {
    const { key, message, messageType } = signingInput(kms, caller, input, 'Sign');
    const signature =
      messageType === 'DIGEST'
        ? signDigest(key.privateKey, message)
        : nodeSign('sha256', message, { key: key.privateKey, dsaEncoding: 'der' });
    return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' };
  },
  Verify(kms, caller, input) {
    const { key, message, messageType, signature } = signingInput(kms, caller, input, 'Verify');
    let valid: boolean;
    try {
      valid =
        messageType === 'DIGEST'
          ? verifyDigest(key.publicKey, message, signature!)
          : nodeVerify('sha256', message, { key: key.publicKey, dsaEncoding: 'der' }, signature!);
    } catch {
      valid = false;
    }
    // KMS answers a bad signature with an error (no message), never with SignatureValid: false.
    if (!valid) throw new KmsError('KMSInvalidSignatureException', undefined);
    return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: 'ECDSA_SHA_256' };
  },
};

/**
 * The KMS request handler of the local AWS endpoint.
 *
 * @example
 * const kms = createKmsHandler(await LocalKms.open({ region: 'us-east-1' }), store);
 * if (isKmsRequest(raw)) return kms(raw);
 */
export function createKmsHandler(
  kms: LocalKms,
  store: IamStore,
  opts: { now?: () => Date; verify?: RequestVerifier } = {},
): (req: RawRequest) => Promise<RawResponse> {
  const clock = opts.now ?? store.now;
  // The endpoint's one verifier (scope: the endpoint's region and `kms`); alone, us-east-1.
  const verify =
    opts.verify ?? endpointVerifier({ region: 'us-east-1', lookup: (id) => store.lookupAccessKey(id) });
  return async (req) => {
    const now = clock();
    const headers = {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      date: now.toUTCString(),
    };
    const fail = (type: string, message: string | undefined, status = 400): RawResponse => ({
      status,
      headers,
      body: JSON.stringify(message === undefined ? { __type: type } : { __type: type, message }),
    });
    const auth = verify(req, now);
    if (!auth.ok) {
      const e = toJsonServiceError(auth);
      return fail(e.type, e.message, e.status);
    }
    const operation = OPERATIONS[(req.headers['x-amz-target'] ?? '').slice(TARGET_PREFIX.length)];
    if (req.method !== 'POST' || !operation) return fail('UnknownOperationException', undefined);
    let input: unknown;
    try {
      input = JSON.parse(req.body.toString('utf8') || '{}');
    } catch {
      return fail('SerializationException', 'The request body is not valid JSON');
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      return fail('SerializationException', 'The request body must be a JSON object');
    try {
      return { status: 200, headers, body: JSON.stringify(operation(kms, auth.key, input as Input)) };
    } catch (e) {
      if (e instanceof KmsError) return fail(e.type, e.kmsMessage, e.status);
      throw e;
    }
  };
}
