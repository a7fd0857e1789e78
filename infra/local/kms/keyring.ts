/**
 * The local KMS's keys and aliases: asymmetric `ECC_NIST_P256` / `SIGN_VERIFY` keys only (what
 * vend's audit digests use), each in an account of the demo world, with aliases per account, and
 * key ids resolved the way KMS resolves them (key id, key ARN, alias name, alias ARN; a bare id or
 * alias name is looked up in the caller's own account).
 *
 * Persisted, when given a file, as JSON with the PEM private keys (file 0600 in a 0700
 * directory, like every other local signing key); otherwise in memory. Local only: real KMS keys
 * never leave KMS.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One local KMS key. */
export interface LocalKmsKey {
  keyId: string;
  arn: string;
  account: string;
  region: string;
  creationDate: Date;
  description: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A refusal shaped as KMS answers it: `__type` and message, HTTP 400. */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string | undefined,
    readonly status = 400,
  ) {
    super(message ?? type);
    this.name = 'KmsError';
    this.kmsMessage = message;
  }
  /** The message as KMS sends it (some errors, e.g. KMSInvalidSignatureException, send none). */
  readonly kmsMessage: string | undefined;
}

interface Stored {
  keys: {
    keyId: string;
    account: string;
    region: string;
    creationDate: string;
    description: string;
    pem: string;
  }[];
  aliases: { account: string; name: string; keyId: string }[];
}

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KMS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

/**
 * @example
 * const kms = await LocalKms.open({ region: 'us-east-1', file: '.vend/kms/keyring.json' });
 * const key = await kms.ensureKey('222233334444', 'alias/vend-dev-audit-digests', 'vend audit digest signing key');
 * kms.resolve('222233334444', 'alias/vend-dev-audit-digests').arn === key.arn; // true
 */
export class LocalKms {
  private readonly keys = new Map<string, LocalKmsKey>();
  private readonly aliases = new Map<string, string>();

  private constructor(
    readonly region: string,
    private readonly file: string | undefined,
    private readonly now: () => Date,
  ) {}

  /** Opens the keyring (`file` undefined: in memory). */
  static async open(opts: { region: string; file?: string; now?: () => Date }): Promise<LocalKms> {
    const kms = new LocalKms(opts.region, opts.file, opts.now ?? (() => new Date()));
    if (opts.file) {
      let text: string | undefined;
      try {
        text = await readFile(opts.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (text !== undefined) {
        const stored = JSON.parse(text) as Stored;
        for (const k of stored.keys) {
          const privateKey = createPrivateKey(k.pem);
          kms.keys.set(k.keyId, {
            keyId: k.keyId,
            arn: `arn:aws:kms:${k.region}:${k.account}:key/${k.keyId}`,
            account: k.account,
            region: k.region,
            creationDate: new Date(k.creationDate),
            description: k.description,
            privateKey,
            publicKey: createPublicKey(privateKey),
          });
        }
        for (const a of stored.aliases) kms.aliases.set(`${a.account}:${a.name}`, a.keyId);
      }
    }
    return kms;
  }

  /**
   * The key an alias names in `account`, made (with the alias) if the alias does not exist yet.
   * Idempotent across runs when the keyring is persisted.
   */
  async ensureKey(account: string, aliasName: string, description: string): Promise<LocalKmsKey> {
    const existing = this.aliases.get(`${account}:${aliasName}`);
    const found = existing ? this.keys.get(existing) : undefined;
    if (found) return found;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyId = randomUUID();
    const key: LocalKmsKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${account}:key/${keyId}`,
      account,
      region: this.region,
      creationDate: this.now(),
      description,
      privateKey,
      publicKey,
    };
    this.keys.set(keyId, key);
    this.aliases.set(`${account}:${aliasName}`, keyId);
    await this.save();
    return key;
  }

  /**
   * Resolves a `KeyId` parameter as KMS does, for a caller in `callerAccount`.
   *
   * @throws KmsError NotFoundException (unknown or malformed), AccessDeniedException (another account's key)
   */
  resolve(callerAccount: string, keyIdInput: string, action: string, callerArn: string): LocalKmsKey {
    let account = callerAccount;
    let region = this.region;
    let kind: 'key' | 'alias';
    let name: string;
    const arn = KMS_ARN.exec(keyIdInput);
    if (arn) {
      [, region, account, kind, name] = arn as unknown as [string, string, string, 'key' | 'alias', string];
      if (kind === 'alias') name = `alias/${name}`;
    } else if (keyIdInput.startsWith('alias/')) {
      kind = 'alias';
      name = keyIdInput;
    } else if (KEY_ID.test(keyIdInput)) {
      kind = 'key';
      name = keyIdInput;
    } else {
      throw new KmsError('NotFoundException', `Invalid keyId '${keyIdInput}'`);
    }
    const where = `arn:aws:kms:${region}:${account}`;
    let key: LocalKmsKey | undefined;
    if (kind === 'alias') {
      const id = region === this.region ? this.aliases.get(`${account}:${name}`) : undefined;
      key = id ? this.keys.get(id) : undefined;
      if (!key) throw new KmsError('NotFoundException', `Alias ${where}:${name} is not found.`);
    } else {
      key = this.keys.get(name);
      if (!key || key.account !== account || key.region !== region)
        throw new KmsError('NotFoundException', `Key '${where}:key/${name}' does not exist`);
    }
    if (key.account !== callerAccount) {
      throw new KmsError(
        'AccessDeniedException',
        `User: ${callerArn} is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows the kms:${action} action`,
      );
    }
    return key;
  }

  private async save(): Promise<void> {
    if (!this.file) return;
    const stored: Stored = {
      keys: [...this.keys.values()].map((k) => ({
        keyId: k.keyId,
        account: k.account,
        region: k.region,
        creationDate: k.creationDate.toISOString(),
        description: k.description,
        pem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      })),
      aliases: [...this.aliases].map(([at, keyId]) => {
        const [account, name] = at.split(/:(.*)/s) as [string, string];
        return { account, name, keyId };
      }),
    };
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.file);
  }
}
