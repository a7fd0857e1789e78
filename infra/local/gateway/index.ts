/** The local API Gateway (HTTP API, payload format 2.0). See docs/local-stack.md. */
export {
  authorizeIam,
  authorizeJwt,
  executeApiArn,
  type GatewayKeyStore,
  type JwksSource,
  renderClaim,
} from './authorizers';
export { buildEvent, type HttpApiEvent, isTextContentType, lambdaContext } from './event';
export { mapResult } from './result';
export { compileRoutes, matchRoute } from './routes';
export {
  apiIdFor,
  type Gateway,
  type GatewayOptions,
  MAX_BODY_BYTES,
  PortInUseError,
  startGateway,
} from './server';
export { loadServerless, ServerlessConfigError, type ServiceDef } from './serverless';
