/**
 * The layers of vend, held by dependency-cruiser so that no one has to remember them
 * (docs/architecture.md draws the picture; `npm run lint` runs this after Biome).
 *
 *   functions/, bin/, lib/cli/  entries
 *        ↓
 *   lib/wiring/                 composition root: reads lib/config.ts once, builds adapters and use cases
 *        ↓
 *   lib/usecases/               one file per use case, a function of its ports
 *        ↓
 *   lib/ports/  lib/domain/     interfaces (and the errors they may throw) · pure rules
 *        ↓
 *   lib/iam/                    the IAM policy evaluator (pure)
 *
 *   adapters (lib/dynamodb/, lib/sts/, lib/audit/, lib/slack-api/, lib/ssm/, lib/revocation/,
 *   lib/federation/) implement ports and
 *   import only ports, the domain and the platform modules; lib/wiring/ is the only place that
 *   names them.
 *
 * Each rule says why in its `comment`; that text is what `npm run lint` prints when it breaks.
 */

const path = require('node:path');

/** Path patterns of the layers, shared by the rules below (and by test/unit/architecture). */
const DOMAIN = '^lib/domain/';
const IAM = '^lib/iam/';
const PORTS = '^lib/ports/';
const USECASES = '^lib/usecases/';
const WIRING = '^lib/wiring/';
const CONFIG = '^lib/config[.]ts$';
/** Slack's formats as pure functions: payload parsing, message rendering, signature check. */
const SLACK_FORMATS = '^lib/slack/';
/** The middy middlewares of the HTTP functions (errors → problem+json, body limits, validation). */
const HTTP = '^lib/http/';
/** Cross-cutting modules every layer but the domain may use: log, metrics, ids, clock. */
const PLATFORM = '^lib/(log|metrics|ids|clock)[.]ts$';
/** Adapters: they talk to the outside and translate its errors. */
const ADAPTERS = '^lib/(dynamodb|sts|audit|slack-api|ssm|revocation|federation)/';
/** Entitlements as code and the trust lint: the operator's tooling, used by the CLI. */
const TOOLING = '^lib/(entitlements|trust)/';
const CLI = '^lib/cli/';
const ENTRIES = '^(functions|bin)/';
/** What ships: the Lambda bundles and the npm package's CLI. */
const SHIPPED = '^(lib|functions|bin)/';
const LOCAL_STACK = '^infra/local/';

/** node: modules the domain may use: hashing is computation, not I/O. */
const PURE_CORE = '^(crypto)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle means two modules are one module in two files, and it makes the load order matter. Move what both need to the lower of the two layers.',
      from: { path: SHIPPED },
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'lib/domain/ holds the rules and nothing else: no storage keys, no adapter, no port, no use case, no wiring, no config, no log, no npm package. What a rule needs from storage is defined in the domain and mapped by the adapter (e.g. lib/domain/audit-chain.ts `auditPlacement`, mapped to table keys in lib/dynamodb/keys.ts).',
      from: { path: DOMAIN },
      to: { pathNot: [DOMAIN, IAM], dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-no-io-modules',
      severity: 'error',
      comment:
        'The domain does no I/O: of node: modules only crypto (hashing) is allowed. Take what you need to read or write through a port in a use case.',
      from: { path: [DOMAIN, IAM, SLACK_FORMATS] },
      to: { dependencyTypes: ['core'], pathNot: PURE_CORE },
    },
    {
      name: 'iam-is-self-contained',
      severity: 'error',
      comment: 'lib/iam/ is the policy evaluator: a pure library the domain and the local stack share.',
      from: { path: IAM },
      to: { pathNot: [IAM], dependencyTypesNot: ['core'] },
    },
    {
      name: 'slack-formats-are-pure',
      severity: 'error',
      comment:
        'lib/slack/ renders and parses Slack formats; posting to Slack is the adapter in lib/slack-api/. It may use the domain, nothing with I/O.',
      from: { path: SLACK_FORMATS },
      to: { pathNot: [SLACK_FORMATS, DOMAIN, IAM, PORTS], dependencyTypesNot: ['core'] },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      comment:
        'lib/ports/ defines what use cases need (interfaces, and the errors a port may throw). Ports speak in domain types; they never import an adapter, a use case or the wiring.',
      from: { path: PORTS },
      to: { pathNot: [PORTS, DOMAIN, IAM, SLACK_FORMATS, PLATFORM], dependencyTypesNot: ['core'] },
    },
    {
      name: 'usecases-use-ports',
      severity: 'error',
      comment:
        'A use case is a function of its ports: it imports ports, the domain, Slack formats and other use cases, never an adapter, the wiring, config, HTTP or an SDK. Add a port in lib/ports/ and an adapter that implements it (docs/architecture.md).',
      from: { path: USECASES },
      to: { pathNot: [USECASES, PORTS, DOMAIN, IAM, SLACK_FORMATS, PLATFORM] },
    },
    {
      name: 'usecases-take-platform-as-ports',
      severity: 'error',
      comment:
        'Use cases take their log, metrics, clock and id generator as arguments: import their types only (`import type`), so a test can pass its own.',
      from: { path: USECASES },
      to: { path: PLATFORM, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'adapters-implement-ports',
      severity: 'error',
      comment:
        'Adapters implement ports and import only ports, the domain and the platform modules (and each other for shared helpers such as lib/dynamodb/keys.ts). They never import a use case, the wiring, config, HTTP or the CLI: lib/wiring/ passes them what they need.',
      from: { path: ADAPTERS },
      to: { path: [USECASES, WIRING, CONFIG, HTTP, CLI, TOOLING, '^functions/'] },
    },
    {
      name: 'only-the-wiring-reads-config',
      severity: 'error',
      comment:
        'lib/config.ts reads the environment; lib/wiring/ reads lib/config.ts once and passes values on. (lib/log.ts takes the log level from it so that a configuration error can itself be logged.) The CLI reads its own environment (lib/cli/).',
      from: { pathNot: [WIRING, '^lib/log[.]ts$'] },
      to: { path: CONFIG, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-entries-use-the-wiring',
      severity: 'error',
      comment:
        'lib/wiring/ is the composition root: functions/, bin/ and the CLI call it; nothing below it may, or the layers would point upwards.',
      from: { path: SHIPPED, pathNot: [WIRING, ENTRIES, CLI] },
      to: { path: WIRING },
    },
    {
      name: 'entries-go-through-the-wiring',
      severity: 'error',
      comment:
        'Handlers and the CLI get their adapters from lib/wiring/, never by constructing them, so that configuration is read in one place.',
      from: { path: [ENTRIES, CLI] },
      to: { path: ADAPTERS },
    },
    {
      name: 'shipped-code-never-loads-the-local-stack-statically',
      severity: 'error',
      comment:
        'infra/local/ is the development stack; it is not in the Lambda bundles or the npm package. Shipped code may reach it only through a dynamic import() on a development-only path (`vend dev`), and name its types (`import type`, `typeof import()`), which load nothing.',
      from: { path: SHIPPED },
      to: { path: LOCAL_STACK, dependencyTypesNot: ['dynamic-import', 'type-only', 'type-import'] },
    },
    {
      name: 'tooling-is-not-a-back-door',
      severity: 'error',
      comment:
        'lib/entitlements/ and lib/trust/ (entitlements as code, the trust lint) are pure enough for the CLI and the local stack to share: they use ports and the domain, never an adapter or the wiring.',
      from: { path: TOOLING },
      to: { path: [ADAPTERS, WIRING, CONFIG, USECASES, CLI, HTTP] },
    },
    {
      name: 'api-types-stand-alone',
      severity: 'error',
      comment:
        'lib/api/ is the HTTP API as types, generated from openapi.yaml (npm run gen:api) for clients such as the CLI; it depends on nothing.',
      from: { path: '^lib/api/' },
      to: { pathNot: '^lib/api/' },
    },
    {
      name: 'http-is-the-edge',
      severity: 'error',
      comment:
        'lib/http/ is the middy chain of the HTTP functions (problem+json, body limits, parameters): it knows the domain errors and the log, and nothing that decides or stores.',
      from: { path: HTTP },
      to: { path: [USECASES, PORTS, ADAPTERS, WIRING, CONFIG, CLI, TOOLING] },
    },
    {
      name: 'platform-is-a-leaf',
      severity: 'error',
      comment:
        'lib/log.ts, metrics.ts, ids.ts and clock.ts are used by every layer, so they use none (lib/log.ts reads only its level from lib/config.ts).',
      from: { path: PLATFORM },
      to: { path: '^lib/', pathNot: [PLATFORM, CONFIG] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      from: { path: SHIPPED },
      // aws-lambda is types only (@types/aws-lambda), imported with `import type`.
      to: { couldNotResolve: true, pathNot: '^aws-lambda$' },
    },
  ],
  options: {
    // Type-only imports count: a port imported for its type is still an arrow between layers.
    tsPreCompilationDeps: true,
    // Absolute, so that the architecture spec can cruise its fixture tree with these same options.
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    doNotFollow: { path: ['node_modules', '^infra/'] },
    exclude: { path: ['^test/', '^bench/', '^node_modules/'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
