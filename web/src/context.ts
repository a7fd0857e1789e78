/** What every page gets from the shell: the API client, who is signed in, the deployment's settings. */
import type { Api } from './api';
import type { Me } from './auth';
import type { WebConfig } from './config';

export interface PageProps {
  api: Api;
  me: Me;
  config: WebConfig;
  params: URLSearchParams;
}
