/**
 * What `@aws-sdk/credential-provider-node` becomes inside a Lambda bundle (serverless.yml
 * `custom.esbuild.alias`): the environment provider alone.
 *
 * Why: every AWS SDK client's runtime config imports the default credential chain statically, so a
 * bundle carries it whether or not a client is given credentials: the SSO, ini, process, web-identity,
 * HTTP and IMDS providers, `@aws-sdk/nested-clients` (an SSO, SSO-OIDC and STS client of their own),
 * ~180 KiB a cold start parses and never runs. In Lambda the chain always stops at its first link,
 * the environment (the runtime puts the execution role's keys in `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`), so the bundle keeps exactly that link. Without
 * those variables it fails closed (`CredentialsProviderError`) instead of looking anywhere else.
 *
 * lib/wiring/clients.ts passes `credentials: fromEnv()` explicitly as well, so the unbundled code (the local
 * stack, the tests) resolves credentials the way a deployed function does; this alias covers the
 * clients made elsewhere (the sealer's KMS client) and removes the chain from the bytes.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The default chain's name and signature, answered by the environment provider. */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}): ReturnType<typeof fromEnv> =>
  fromEnv(init);
