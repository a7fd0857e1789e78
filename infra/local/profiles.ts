/**
 * Writes the AWS shared config and credentials files of the local stack (`<dataDir>/aws/config`,
 * `<dataDir>/aws/credentials`), one profile per demo caller, so the AWS CLI, boto3 and the SDK for
 * JavaScript work with `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` and `--profile ci`.
 * The files are rewritten on every start (fresh base sessions) with mode 0600: they hold secrets,
 * local ones, but the habit matters.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyRecord } from './types';

/** Where the files went. */
export interface ProfileFiles {
  configFile: string;
  credentialsFile: string;
}

/** The config file text: region and the local endpoint per profile. */
export function renderConfig(profiles: string[], opts: { region: string; endpointUrl?: string }): string {
  return profiles
    .map((name) => {
      const header = name === 'default' ? '[default]' : `[profile ${name}]`;
      const endpoint = opts.endpointUrl ? `endpoint_url = ${opts.endpointUrl}\n` : '';
      return `${header}\nregion = ${opts.region}\noutput = json\n${endpoint}`;
    })
    .join('\n');
}

/** The credentials file text. */
export function renderCredentials(keys: Record<string, KeyRecord>): string {
  return Object.entries(keys)
    .map(([name, k]) => {
      const token = k.sessionToken ? `aws_session_token = ${k.sessionToken}\n` : '';
      return `[${name}]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n${token}`;
    })
    .join('\n');
}

/**
 * Writes both files under `<dir>`.
 *
 * @example await writeAwsProfiles('.vend/aws', { ci: store.mintBaseSession('ci') }, { region: 'us-east-1' })
 */
export async function writeAwsProfiles(
  dir: string,
  keys: Record<string, KeyRecord>,
  opts: { region: string; endpointUrl?: string },
): Promise<ProfileFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const configFile = join(dir, 'config');
  const credentialsFile = join(dir, 'credentials');
  await writeFile(configFile, renderConfig(Object.keys(keys), opts), { mode: 0o600 });
  await writeFile(credentialsFile, renderCredentials(keys), { mode: 0o600 });
  return { configFile, credentialsFile };
}
