/**
 * Generates packages/sdk (@sessiond/sdk) from the service's own OpenAPI document: the API classes
 * (src/apis), the types of every component schema (src/models), src/index.ts, the per-API docs
 * (docs/*.md, in openapi-generator's typescript-fetch format) and README.md. src/runtime.ts is
 * hand-written and not touched.
 *
 * The document comes from the app itself, built in memory on an empty SQLite database: the same
 * TypeBox schemas that validate requests write the document, and through it the SDK, so there is
 * no hand-synced copy. packages/sdk/test/sync.test.ts fails when the committed files drift.
 *
 *   npm run generate:sdk
 *
 * Naming follows typescript-fetch: operationId SessionController_getActiveSessions becomes the
 * method sessionControllerGetActiveSessions (and ...Raw) taking a
 * SessionControllerGetActiveSessionsRequest; tag Sessions becomes the class SessionsApi.
 * Schema constructs the generator does not understand are errors, never silently `any`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp } from '../packages/server/src/app.ts';
import { defaultConfig } from '../packages/server/src/config.ts';
import { openDatabase } from '../packages/server/src/database/database.ts';
import { generateKeyMaterial } from '../packages/server/src/tokens/key-store.ts';

export const sdkDir = path.resolve(import.meta.dirname, '../packages/sdk');
export const packageName = '@sessiond/sdk';

/**
 * Tags left out of the SDK. Meta (GET /health, GET /.well-known/jwks.json) serves load balancers and
 * resource servers that verify access tokens with a JOSE library; an app signing users in has no
 * use for it, and the JWKS answer has no response schema to type.
 */
export const excludedTags = new Set(['Meta', 'Revocations']);

/**
 * Server-Sent Events operations (GET /sessions/events) are not request/response calls: the SDK's
 * hand-written src/session-events.ts reads them as an async iterator, and the generator skips them.
 * Revocations (the services' stream) are read by @sessiond/verify, not by apps signing users in.
 */
const isEventStream = (raw: OperationObject) =>
  Object.entries(raw.responses ?? {}).some(([status, r]) => /^2\d\d$/.test(status) && Object.keys(r.content ?? {}).includes('text/event-stream'));

/** The directories whose every file is generated (stale files there are an error / are removed). */
export const generatedDirs = ['src/apis', 'src/models', 'docs'];

// ---------------------------------------------------------------------------------------------
// The OpenAPI 3.1 subset the service's document uses

export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

interface MediaTypes {
  [mediaType: string]: { schema?: Schema };
}

interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface OperationObject {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content?: MediaTypes };
  responses?: Record<string, { description?: string; content?: MediaTypes }>;
  security?: Array<Record<string, string[]>>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: Array<{ url: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, OperationObject>>;
  components?: {
    schemas?: Record<string, Schema>;
    securitySchemes?: Record<string, { type: string; scheme?: string; bearerFormat?: string; description?: string; in?: string; name?: string }>;
  };
  security?: Array<Record<string, string[]>>;
}

/** Builds the app in memory and returns the OpenAPI document it serves. */
export async function loadOpenApiDocument(): Promise<OpenApiDocument> {
  const database = openDatabase({ sqliteFile: ':memory:' });
  const app = await buildApp({ ...defaultConfig, logLevel: 'silent' }, { database, keys: generateKeyMaterial(Date.now()) });
  try {
    await app.ready();
    // A JSON round trip leaves plain data (no getters, no undefined) to generate from.
    return JSON.parse(JSON.stringify(app.swagger())) as OpenApiDocument;
  } finally {
    await app.close();
    await database.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Names, as openapi-generator's typescript-fetch makes them

const words = (name: string) => name.split(/[^A-Za-z0-9]+/).filter(Boolean);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** SessionController_getActiveSessions -> sessionControllerGetActiveSessions */
export const methodName = (operationId: string) => lowerFirst(words(operationId).map(upperFirst).join(''));
/** Sessions -> SessionsApi */
export const apiClassName = (tag: string) => `${words(tag).map(upperFirst).join('')}Api`;
/** RegisterRequest -> registerRequest (the name of a body parameter) */
const bodyParamName = (schemaName: string) => lowerFirst(words(schemaName).map(upperFirst).join(''));

const refName = (ref: string) => {
  const match = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
  if (!match) throw new Error(`unsupported $ref ${ref} (only #/components/schemas/… is)`);
  return match[1]!;
};

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const propertyKey = (name: string) => (identifier.test(name) ? name : quote(name));
const quote = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const literal = (value: unknown): string => (typeof value === 'string' ? quote(value) : JSON.stringify(value));

// ---------------------------------------------------------------------------------------------
// Schema -> TypeScript

interface TypeContext {
  /** Component names the type refers to (for imports). */
  refs: Set<string>;
  /** Where the schema sits, for error messages. */
  where: string;
}

const isNullSchema = (s: Schema) => s.type === 'null';

/** A TypeScript type expression for a schema; `indent` is the indentation of the line it starts on. */
export function tsType(schema: Schema, ctx: TypeContext, indent = ''): string {
  if (schema.$ref) {
    const name = refName(schema.$ref);
    ctx.refs.add(name);
    return name;
  }
  if (schema.const !== undefined) return literal(schema.const);
  if (schema.enum) return union(schema.enum.map(literal));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return union(alternatives.map((s) => tsType(s, ctx, indent)));
  if (schema.allOf) return schema.allOf.map((s) => tsType(s, ctx, indent)).join(' & ');
  if (Array.isArray(schema.type)) return union(schema.type.map((type) => tsType({ ...schema, type }, ctx, indent)));
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      if (!schema.items) throw new Error(`${ctx.where}: array without items`);
      return `Array<${tsType(schema.items, ctx, indent)}>`;
    case 'object':
    case undefined:
      if (schema.properties) return objectType(schema, ctx, indent);
      if (schema.type === undefined) return 'unknown';
      if (typeof schema.additionalProperties === 'object') return `{ [key: string]: ${tsType(schema.additionalProperties, ctx, indent)} }`;
      return '{ [key: string]: unknown }';
    default:
      throw new Error(`${ctx.where}: unsupported schema type ${JSON.stringify(schema.type)}`);
  }
}

function union(members: string[]): string {
  return [...new Set(members)].join(' | ');
}

/** The members of an object type, one per line, each with its doc comment. */
function objectMembers(schema: Schema, ctx: TypeContext, indent: string): string[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => [
    ...docComment(schemaDocLines(property), indent),
    `${indent}${propertyKey(name)}${required.has(name) ? '' : '?'}: ${tsType(property, { ...ctx, where: `${ctx.where}.${name}` }, indent)};`,
  ]);
}

function objectType(schema: Schema, ctx: TypeContext, indent: string): string {
  return ['{', ...objectMembers(schema, ctx, indent + '  '), `${indent}}`].join('\n');
}

/** The format of a schema, or of the non-null alternative of a nullable one. */
const formatOf = (schema: Schema) => schema.format ?? (schema.anyOf ?? schema.oneOf)?.find((s) => s.format)?.format;

/** Description, format and default of a schema, for a doc comment. */
function schemaDocLines(schema: Schema): string[] {
  const lines = schema.description ? [schema.description] : [];
  const format = formatOf(schema);
  if (format) lines.push(`@format ${format}`);
  if (schema.default !== undefined) lines.push(`@default ${JSON.stringify(schema.default)}`);
  return lines;
}

function docComment(lines: string[], indent: string): string[] {
  const safe = lines.flatMap((line) => line.replaceAll('*/', '*\\/').split('\n'));
  if (safe.length === 0) return [];
  if (safe.length === 1 && indent.length + safe[0]!.length < 110) return [`${indent}/** ${safe[0]} */`];
  return [`${indent}/**`, ...safe.map((line) => (line ? `${indent} * ${line}` : `${indent} *`)), `${indent} */`];
}

// ---------------------------------------------------------------------------------------------
// The operations, grouped into API classes

interface Param {
  name: string;
  in: 'path' | 'query' | 'body';
  /** The caller must give it (path parameters, required bodies, required query parameters without a default). */
  required: boolean;
  tsType: string;
  description?: string;
  schema: Schema;
}

interface Operation {
  /** The SDK method name (camelCase of the operationId). */
  method: string;
  httpMethod: string;
  path: string;
  summary?: string;
  description?: string;
  params: Param[];
  requestTypeName: string;
  /** TypeScript type of the 2xx answer ('void' without a body). */
  returnType: string;
  /** Component name of the 2xx answer, when it is one. */
  returnModel?: string;
  bearer?: string;
  /** For an apiKey-in-header scheme: the scheme name and the header it travels in. */
  apiKey?: { scheme: string; header: string };
  contentTypes: string[];
  acceptTypes: string[];
  responses: Array<{ status: string; description: string }>;
  refs: Set<string>;
}

interface Api {
  tag: string;
  className: string;
  description?: string;
  operations: Operation[];
}

const httpMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** The operation's security: an http bearer scheme, or an API key in a header (as typescript-fetch supports). */
function securityOf(doc: OpenApiDocument, operation: OperationObject, where: string): Pick<Operation, 'bearer' | 'apiKey'> {
  const requirements = operation.security ?? doc.security ?? [];
  const names = requirements.flatMap((requirement) => Object.keys(requirement));
  if (names.length === 0) return {};
  if (names.length > 1) throw new Error(`${where}: several security schemes (${names.join(', ')}) are not supported`);
  const scheme = doc.components?.securitySchemes?.[names[0]!];
  if (scheme?.type === 'http' && scheme.scheme?.toLowerCase() === 'bearer') return { bearer: names[0] };
  if (scheme?.type === 'apiKey' && scheme.in === 'header' && scheme.name) return { apiKey: { scheme: names[0]!, header: scheme.name } };
  throw new Error(`${where}: security scheme ${names[0]} is neither http bearer nor an apiKey header (the kinds supported)`);
}

/**
 * A parameter's type in the SDK. Integer and number parameters travel in the URL as text, so the
 * SDK takes them as numbers or as strings (page: '2' as well as page: 2); the service validates.
 */
function paramType(schema: Schema, ctx: TypeContext): string {
  const type = tsType(schema, ctx);
  return type === 'number' ? 'number | string' : type;
}

function readOperation(doc: OpenApiDocument, urlPath: string, method: string, raw: OperationObject): Operation {
  const where = `${method.toUpperCase()} ${urlPath}`;
  if (!raw.operationId) throw new Error(`${where}: no operationId`);
  const name = methodName(raw.operationId);
  const refs = new Set<string>();
  const ctx = (param: string): TypeContext => ({ refs, where: `${where} ${param}` });

  const params: Param[] = (raw.parameters ?? []).map((p) => {
    if (p.in !== 'path' && p.in !== 'query') throw new Error(`${where}: ${p.in} parameter ${p.name} is not supported`);
    const schema = p.schema ?? {};
    // A query parameter with a default is optional for the caller: the service fills it in.
    const required = p.in === 'path' || (p.required === true && schema.default === undefined);
    return { name: p.name, in: p.in, required, tsType: paramType(schema, ctx(p.name)), description: p.description, schema };
  });

  const contentTypes = Object.keys(raw.requestBody?.content ?? {});
  if (raw.requestBody) {
    const schema = raw.requestBody.content?.['application/json']?.schema;
    if (!schema?.$ref || contentTypes.length !== 1) throw new Error(`${where}: only a JSON body given by a $ref to a component is supported`);
    const model = refName(schema.$ref);
    params.push({ name: bodyParamName(model), in: 'body', required: raw.requestBody.required === true, tsType: tsType(schema, ctx('body')), schema });
  }

  const responses = Object.entries(raw.responses ?? {}).map(([status, r]) => ({ status, description: r.description ?? '', content: r.content ?? {} }));
  const success = responses.find((r) => /^2\d\d$/.test(r.status));
  if (!success) throw new Error(`${where}: no 2xx response`);
  const successTypes = Object.keys(success.content);
  if (successTypes.some((t) => t !== 'application/json')) throw new Error(`${where}: 2xx media types ${successTypes.join(', ')} are not supported`);
  const successSchema = success.content['application/json']?.schema;
  const returnType = successSchema ? tsType(successSchema, ctx('response')) : 'void';

  const names = params.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new Error(`${where}: parameter names collide (${names.join(', ')})`);

  return {
    method: name,
    httpMethod: method.toUpperCase(),
    path: urlPath,
    summary: raw.summary,
    description: raw.description,
    params,
    requestTypeName: `${upperFirst(name)}Request`,
    returnType,
    returnModel: successSchema?.$ref ? refName(successSchema.$ref) : undefined,
    ...securityOf(doc, raw, where),
    contentTypes,
    acceptTypes: [...new Set(responses.flatMap((r) => Object.keys(r.content)))],
    responses: responses.map(({ status, description }) => ({ status, description })),
    refs,
  };
}

export function readApis(doc: OpenApiDocument): Api[] {
  const apis = new Map<string, Api>();
  for (const [urlPath, item] of Object.entries(doc.paths)) {
    for (const method of httpMethods) {
      const raw = item[method];
      if (!raw) continue;
      const tag = raw.tags?.[0] ?? 'Default';
      if (excludedTags.has(tag) || isEventStream(raw)) continue;
      let api = apis.get(tag);
      if (!api) {
        api = { tag, className: apiClassName(tag), description: doc.tags?.find((t) => t.name === tag)?.description, operations: [] };
        apis.set(tag, api);
      }
      api.operations.push(readOperation(doc, urlPath, method, raw));
    }
  }
  const sorted = [...apis.values()].sort((a, b) => a.className.localeCompare(b.className));
  for (const api of sorted) api.operations.sort((a, b) => a.method.localeCompare(b.method));
  return sorted;
}

// ---------------------------------------------------------------------------------------------
// src/: models, apis, index

const header = [
  '// Generated by scripts/generate-sdk.ts from the OpenAPI document of the sessiond service.',
  '// Do not edit: change the route schemas in packages/server, then run `npm run generate:sdk`.',
  '',
];

const file = (lines: string[]) => [...header, ...lines].join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';

function importLines(names: Iterable<string>, from: (name: string) => string, exclude?: string): string[] {
  return [...new Set(names)]
    .filter((n) => n !== exclude)
    .sort()
    .map((n) => `import type { ${n} } from '${from(n)}';`);
}

function modelFile(name: string, schema: Schema): string {
  const ctx: TypeContext = { refs: new Set(), where: `components.schemas.${name}` };
  const isObject = (schema.type === 'object' || schema.type === undefined) && schema.properties !== undefined;
  const body = isObject
    ? [`export interface ${name} {`, ...objectMembers(schema, ctx, '  '), '}']
    : [`export type ${name} = ${tsType(schema, ctx)};`];
  const docLines = schema.description ? [schema.description] : [];
  return file([...importLines(ctx.refs, (n) => `./${n}.ts`, name), '', ...docComment(docLines, ''), ...body]);
}

function requestTypeLines(op: Operation): string[] {
  if (op.params.length === 0) {
    return [
      ...docComment([`${op.method}() takes no parameters: this type exists so code written from the typescript-fetch documentation compiles.`], ''),
      `export type ${op.requestTypeName} = Record<string, never>;`,
    ];
  }
  return [
    ...docComment([`Parameters of ${op.method}().`], ''),
    `export interface ${op.requestTypeName} {`,
    ...op.params.flatMap((p) => [
      ...docComment(p.in === 'body' ? [] : schemaDocLines({ ...p.schema, description: p.description }), '  '),
      `  ${propertyKey(p.name)}${p.required ? '' : '?'}: ${p.tsType};`,
    ]),
    '}',
  ];
}

function operationDescriptor(op: Operation): string[] {
  const list = (values: string[]) => `[${values.map(quote).join(', ')}]`;
  const byLocation = (where: Param['in']) => op.params.filter((p) => p.in === where).map((p) => p.name);
  const body = op.params.find((p) => p.in === 'body');
  const required = op.params.filter((p) => p.required).map((p) => p.name);
  const fields = [
    `name: ${quote(op.method)}`,
    `method: ${quote(op.httpMethod)}`,
    `path: ${quote(op.path)}`,
    byLocation('path').length > 0 ? `pathParams: ${list(byLocation('path'))}` : undefined,
    byLocation('query').length > 0 ? `queryParams: ${list(byLocation('query'))}` : undefined,
    required.length > 0 ? `required: ${list(required)}` : undefined,
    body ? `body: ${quote(body.name)}` : undefined,
    op.bearer ? `bearer: ${quote(op.bearer)}` : undefined,
    op.apiKey ? `apiKeyHeader: ${quote(op.apiKey.header)}` : undefined,
  ].filter((f): f is string => f !== undefined);
  return [`  ${op.method}: {`, ...fields.map((f) => `    ${f},`), '  },'];
}

function methodLines(op: Operation): string[] {
  const docLines = [op.summary, op.description].filter((s): s is string => Boolean(s)).flatMap((s, i) => (i > 0 ? ['', s] : [s]));
  const hasParams = op.params.length > 0;
  const optional = op.params.every((p) => !p.required);
  const signature = [
    ...(hasParams ? [`    requestParameters: ${op.requestTypeName}${optional ? ' = {}' : ''},`] : []),
    '    initOverrides?: RequestInit | runtime.InitOverrideFunction,',
  ];
  const args = hasParams ? 'requestParameters, initOverrides' : 'initOverrides';
  const sent = hasParams ? 'requestParameters' : '{}';
  const isVoid = op.returnType === 'void';
  const apiResponse = isVoid ? 'new runtime.VoidApiResponse(response)' : `new runtime.JSONApiResponse<${op.returnType}>(response)`;
  return [
    ...docComment([...docLines, '', 'Resolves to the raw response (`raw`) and its body (`value()`); rejects with ResponseError on a non-2xx answer.'], '  '),
    `  async ${op.method}Raw(`,
    ...signature,
    `  ): Promise<runtime.ApiResponse<${op.returnType}>> {`,
    `    const response = await this.execute(operations.${op.method}, ${sent}, initOverrides);`,
    `    return ${apiResponse};`,
    '  }',
    '',
    ...docComment(docLines, '  '),
    `  async ${op.method}(`,
    ...signature,
    `  ): Promise<${op.returnType}> {`,
    isVoid ? `    await this.${op.method}Raw(${args});` : `    const response = await this.${op.method}Raw(${args});`,
    ...(isVoid ? [] : ['    return await response.value();']),
    '  }',
  ];
}

function apiFile(api: Api): string {
  const refs = api.operations.flatMap((op) => [...op.refs]);
  const modelImport = refs.length > 0 ? [`import type { ${[...new Set(refs)].sort().join(', ')} } from '../models/index.ts';`] : [];
  return file([
    "import * as runtime from '../runtime.ts';",
    ...modelImport,
    '',
    ...api.operations.flatMap((op) => [...requestTypeLines(op), '']),
    '/** What each operation sends; runtime.BaseAPI.execute does the sending. */',
    'const operations = {',
    ...api.operations.flatMap(operationDescriptor),
    '} as const satisfies Record<string, runtime.Operation>;',
    '',
    ...docComment([api.description ?? api.tag], ''),
    `export class ${api.className} extends runtime.BaseAPI {`,
    ...api.operations.flatMap((op, i) => [...(i > 0 ? [''] : []), ...methodLines(op)]),
    '}',
  ]);
}

// ---------------------------------------------------------------------------------------------
// docs/*.md and README.md, in typescript-fetch's documentation format

const uuidExample = '38400000-8cf0-11bd-b23e-10b96e4ef00d';
const uuidPattern = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** A TypeScript literal that satisfies the schema, for the docs' examples. */
function exampleValue(schema: Schema, name: string, doc: OpenApiDocument, indent: string): string {
  if (schema.default !== undefined) return literal(schema.default);
  if (schema.$ref) return exampleValue(doc.components?.schemas?.[refName(schema.$ref)] ?? {}, name, doc, indent);
  if (schema.const !== undefined) return literal(schema.const);
  if (schema.enum) return literal(schema.enum[0]);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return exampleValue(alternatives.find((s) => !isNullSchema(s)) ?? alternatives[0]!, name, doc, indent);
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid' || schema.pattern === uuidPattern) return quote(uuidExample);
      if (schema.format === 'email' || name === 'email') return quote('user@example.com');
      if (schema.format === 'date-time') return quote('2026-01-01T00:00:00.000Z');
      return quote(`${name}_example`);
    case 'integer':
    case 'number':
      return String(schema.minimum ?? 56);
    case 'boolean':
      return 'true';
    case 'array':
      return `[${exampleValue(schema.items ?? {}, name, doc, indent)}]`;
    default: {
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(schema.properties ?? {}).filter(([key]) => required.has(key));
      if (entries.length === 0) return '{}';
      const inner = indent + '  ';
      return ['{', ...entries.map(([key, s]) => `${inner}${propertyKey(key)}: ${exampleValue(s, key, doc, inner)},`), `${indent}}`].join('\n');
    }
  }
}

const modelLink = (name: string) => `[${name}](../README.md#${name.toLowerCase()})`;
const mediaList = (types: string[]) => (types.length > 0 ? types.map((t) => `\`${t}\``).join(', ') : 'Not defined');
const cell = (s: string | undefined) => (s ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ');

function exampleLines(api: Api, op: Operation, doc: OpenApiDocument): string[] {
  const hasParams = op.params.length > 0;
  const lines = [
    '```ts',
    'import {',
    '  Configuration,',
    `  ${api.className},`,
    `} from '${packageName}';`,
    `import type { ${op.requestTypeName} } from '${packageName}';`,
    '',
    'async function example() {',
    `  console.log("🚀 Testing ${packageName} SDK...");`,
    '  const config = new Configuration({ ',
    ...(op.bearer ? [`    // Configure HTTP bearer authorization: ${op.bearer}`, '    accessToken: "YOUR BEARER TOKEN",'] : []),
    ...(op.apiKey ? [`    // To configure API key authorization: ${op.apiKey.scheme}`, '    apiKey: "YOUR API KEY",'] : []),
    '  });',
    `  const api = new ${api.className}(config);`,
    '',
  ];
  if (hasParams) {
    lines.push('  const body = {');
    for (const p of op.params) {
      const comment = [p.tsType, p.description].filter(Boolean).join(' | ') + (p.required ? '' : ' (optional)');
      lines.push(`    // ${comment}`, `    ${propertyKey(p.name)}: ${exampleValue(p.schema, p.name, doc, '    ')},`);
    }
    lines.push(`  } satisfies ${op.requestTypeName};`, '');
  }
  lines.push(
    '  try {',
    `    const data = await api.${op.method}(${hasParams ? 'body' : ''});`,
    '    console.log(data);',
    '  } catch (error) {',
    '    console.error(error);',
    '  }',
    '}',
    '',
    '// Run the test',
    'example().catch(console.error);',
    '```',
  );
  return lines;
}

function paramNotes(p: Param): string {
  const optional = p.required ? '' : '[Optional] ';
  return `${optional}[Defaults to \`${p.schema.default === undefined ? 'undefined' : JSON.stringify(p.schema.default)}\`]`;
}

function operationDocLines(api: Api, op: Operation, doc: OpenApiDocument): string[] {
  const returnDoc = op.returnType === 'void' ? '`void` (Empty response body)' : op.returnModel ? `[**${op.returnModel}**](../README.md#${op.returnModel.toLowerCase()})` : `\`${op.returnType}\``;
  const params = op.params.length === 0
    ? ['This endpoint does not need any parameter.']
    : [
        '',
        '| Name | Type | Description  | Notes |',
        '|------------- | ------------- | ------------- | -------------|',
        ...op.params.map((p) => {
          const model = p.schema.$ref ? refName(p.schema.$ref) : undefined;
          const type = model ? modelLink(model) : `\`${cell(p.tsType)}\``;
          return `| **${p.name}** | ${type} | ${cell(p.description)} | ${model ? '' : paramNotes(p)} |`;
        }),
      ];
  return [
    `## ${op.method}`,
    '',
    `> ${op.returnType === 'void' ? '' : `${op.returnModel ?? op.returnType} `}${op.method}(${op.params.map((p) => p.name).join(', ')})`,
    '',
    op.summary ?? '',
    ...(op.description ? ['', op.description] : []),
    '',
    '### Example',
    '',
    ...exampleLines(api, op, doc),
    '',
    '### Parameters',
    '',
    ...params,
    '',
    '### Return type',
    '',
    returnDoc,
    '',
    '### Authorization',
    '',
    op.bearer ? `[${op.bearer}](../README.md#${op.bearer})` : op.apiKey ? `[${op.apiKey.scheme}](../README.md#${op.apiKey.scheme})` : 'No authorization required',
    '',
    '### HTTP request headers',
    '',
    `- **Content-Type**: ${mediaList(op.contentTypes)}`,
    `- **Accept**: ${mediaList(op.acceptTypes)}`,
    '',
    '',
    '### HTTP response details',
    '| Status code | Description | Response headers |',
    '|-------------|-------------|------------------|',
    ...op.responses.map((r) => `| **${r.status}** | ${cell(r.description)} |  -  |`),
    '',
    '[[Back to top]](#) [[Back to API list]](../README.md#api-endpoints) [[Back to Model list]](../README.md#models) [[Back to README]](../README.md)',
    '',
  ];
}

const basePathOf = (doc: OpenApiDocument) => doc.servers?.[0]?.url ?? 'http://localhost';

function apiDoc(api: Api, doc: OpenApiDocument): string {
  return [
    `# ${api.className}`,
    '',
    `All URIs are relative to *${basePathOf(doc)}*`,
    '',
    '| Method | HTTP request | Description |',
    '|------------- | ------------- | -------------|',
    ...api.operations.map(
      (op) => `| [**${op.method}**](${api.className}.md#${op.method.toLowerCase()}) | **${op.httpMethod}** ${op.path} | ${cell(op.summary)} |`,
    ),
    '',
    '',
    '',
    ...api.operations.flatMap((op) => ['', ...operationDocLines(api, op, doc)]),
  ].join('\n').trimEnd() + '\n';
}

function modelDocLines(name: string, schema: Schema): string[] {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([prop, s]) => {
    const type = tsType(s, { refs: new Set(), where: name }).replace(/\s*\n\s*/g, ' ');
    const format = formatOf(s);
    const notes = [required.has(prop) ? '' : '[Optional]', format ? `format \`${format}\`` : ''].filter(Boolean).join(' ');
    return `| **${prop}** | \`${cell(type)}\` | ${cell(s.description)} | ${notes} |`;
  });
  return [
    `### ${name}`,
    '',
    ...(schema.description ? [schema.description, ''] : []),
    ...(rows.length > 0 ? ['| Name | Type | Description | Notes |', '|------------ | ------------- | ------------- | -------------|', ...rows] : [`\`${tsType(schema, { refs: new Set(), where: name })}\``]),
    '',
  ];
}

function readme(apis: Api[], doc: OpenApiDocument): string {
  const schemas = Object.entries(doc.components?.schemas ?? {});
  const bearerSchemes = Object.entries(doc.components?.securitySchemes ?? {});
  const firstApi = apis.find((a) => a.className === 'SessionsApi') ?? apis[0];
  const excluded = [...excludedTags].map((tag) => `\`${tag}\``).join(', ');
  return [
    `# ${packageName}`,
    '',
    `TypeScript client for **${doc.info.title}** ${doc.info.version}: ${doc.info.description ?? ''}`,
    '',
    'It has the surface of an [openapi-generator](https://openapi-generator.tech) `typescript-fetch` client (`Configuration`,',
    'one `…Api` class per tag, a `…Raw` variant of every method, middleware, `ResponseError`), generated from the',
    "service's own OpenAPI document by `scripts/generate-sdk.ts`. Do not edit the generated files: change the route",
    'schemas in `packages/server`, then run `npm run generate:sdk` (a test fails while they differ).',
    '',
    '- ES modules with type declarations; Node 20+ and browsers (it uses the global `fetch`, nothing Node-only).',
    '- No dependencies.',
    '- Results are typed with the models below, exactly as the service sends them: timestamps stay ISO 8601 strings.',
    "- Integer parameters (`page`, `limit`) accept numbers or strings; query parameters with a server default are optional.",
    `- Left out: the ${excluded} tag (health check and JWKS), which serves load balancers and token verifiers rather than apps.`,
    '',
    '## Build',
    '',
    '```sh',
    `npm run build -w ${packageName}   # -> packages/sdk/dist (index.js + index.d.ts)`,
    '```',
    '',
    '## Getting started',
    '',
    '```ts',
    `import { AuthApi, Configuration, ResponseError, SessionsApi } from '${packageName}';`,
    '',
    "const basePath = 'https://sessions.example.com';",
    'const auth = new AuthApi(new Configuration({ basePath }));',
    "const signedIn = await auth.authControllerLogin({ loginRequest: { email: 'ada@example.com', password: 'correct horse battery staple' } });",
    '',
    '// accessToken may also be a (possibly async) function, asked before every request.',
    'const sessions = new SessionsApi(new Configuration({ basePath, accessToken: signedIn.accessToken }));',
    "const { data, meta } = await sessions.sessionControllerGetActiveSessions({ page: 1, limit: 20 });",
    'for (const session of data) console.log(session.device.browser, session.isCurrent, session.lastActiveAt);',
    '',
    'try {',
    '  await sessions.sessionControllerRevokeSession({ sessionId: data[1]!.id });',
    '} catch (error) {',
    '  // Every failure answer is RFC 9457 problem details, already read into the error.',
    '  if (error instanceof ResponseError) console.error(error.status, error.type, error.title, error.detail);',
    '  else throw error;',
    '}',
    '```',
    '',
    '## Configuration',
    '',
    '| Option | Meaning |',
    '|------------- | -------------|',
    '| `basePath` | Origin (and optional path prefix) of the service. Default `http://localhost`. |',
    '| `accessToken` | Bearer token for operations secured by `JWT-auth`: a string, a promise, or a (possibly async) function asked before every request. |',
    '| `fetchApi` | A `fetch` implementation; the global `fetch` when unset. |',
    '| `headers` | Headers sent with every request. |',
    '| `middleware` | `{ pre, post, onError }` hooks around every request, as in typescript-fetch; also `api.withMiddleware(…)`, `withPreMiddleware`, `withPostMiddleware`. |',
    '| `credentials` | fetch `credentials` mode (browsers). |',
    '| `queryParamsStringify` | Replaces the query string encoder. |',
    '',
    'Every method takes a last, optional `initOverrides` (a `RequestInit`, or a function of the request that returns one),',
    'e.g. `{ signal: AbortSignal.timeout(5000) }`.',
    '',
    '## Errors',
    '',
    '| Error | When | Carries |',
    '|------------- | ------------- | -------------|',
    '| `ResponseError` | The service answered with a non-2xx status. | `response`, and from the problem details body: `status`, `type` (stable URI such as `urn:sessiond:problem:invalid-token`), `title`, `detail`, `problem` (the whole body). |',
    '| `RequiredError` | A required parameter was missing; nothing was sent. | `field` |',
    '| `FetchError` | The request could not be sent (network, abort). | `cause` |',
    '',
    '## API endpoints',
    '',
    `All URIs are relative to *${basePathOf(doc)}*`,
    '',
    '| Class | Method | HTTP request | Description |',
    '|------------ | ------------- | ------------- | -------------|',
    ...apis.flatMap((api) =>
      api.operations.map(
        (op) => `| *${api.className}* | [**${op.method}**](docs/${api.className}.md#${op.method.toLowerCase()}) | **${op.httpMethod}** ${op.path} | ${cell(op.summary)} |`,
      ),
    ),
    '',
    '## Models',
    '',
    ...schemas.flatMap(([name, schema]) => modelDocLines(name, schema)),
    '## Authorization',
    '',
    ...bearerSchemes.flatMap(([name, scheme]) => [
      '',
      `<a id="${name}"></a>`,
      `### ${name}`,
      '',
      scheme.type === 'apiKey'
        ? `- **Type**: API key in the \`${scheme.name}\` header (Configuration \`apiKey\`)`
        : `- **Type**: HTTP ${scheme.scheme ?? scheme.type} authentication${scheme.bearerFormat ? ` (${scheme.bearerFormat})` : ''}`,
      ...(scheme.description ? [`- ${scheme.description}`] : []),
      '',
    ]),
    ...(firstApi ? [`See [docs/${firstApi.className}.md](docs/${firstApi.className}.md) for an example of every operation.`, ''] : []),
  ].join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

// ---------------------------------------------------------------------------------------------
// The whole package

/** Every generated file, keyed by its path relative to packages/sdk. */
export function generateFiles(doc: OpenApiDocument): Map<string, string> {
  const files = new Map<string, string>();
  const schemas = doc.components?.schemas ?? {};
  const apis = readApis(doc);

  // One namespace: runtime, models, API classes and request types are all exported from index.ts.
  const runtimeNames = ['Configuration', 'BaseAPI', 'ResponseError', 'RequiredError', 'FetchError', 'Middleware', 'Operation', 'ApiResponse'];
  const exported = [...runtimeNames, ...Object.keys(schemas), ...apis.flatMap((a) => [a.className, ...a.operations.map((o) => o.requestTypeName)])];
  const clash = exported.find((name, i) => exported.indexOf(name) !== i);
  if (clash) throw new Error(`two exports would be named ${clash}`);
  if (!schemas.Problem) throw new Error('components.schemas.Problem is missing: src/runtime.ts types ResponseError.problem with it');

  const modelNames = Object.keys(schemas).sort();
  for (const name of modelNames) files.set(`src/models/${name}.ts`, modelFile(name, schemas[name]!));
  files.set('src/models/index.ts', file(modelNames.map((n) => `export type * from './${n}.ts';`)));

  for (const api of apis) {
    files.set(`src/apis/${api.className}.ts`, apiFile(api));
    files.set(`docs/${api.className}.md`, apiDoc(api, doc));
  }
  files.set('src/apis/index.ts', file(apis.map((a) => `export * from './${a.className}.ts';`)));
  files.set('src/index.ts', file(["export * from './runtime.ts';", "export * from './apis/index.ts';", "export * from './models/index.ts';", "export * from './session-events.ts';"]));
  files.set('README.md', readme(apis, doc));
  return files;
}

/** The files of packages/sdk in the generated directories that the generator would not write. */
export function staleFiles(files: Map<string, string>): string[] {
  return generatedDirs.flatMap((dir) => {
    const full = path.join(sdkDir, dir);
    if (!fs.existsSync(full)) return [];
    return fs
      .readdirSync(full, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(sdkDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      .filter((relative) => !files.has(relative));
  });
}

async function main() {
  const files = generateFiles(await loadOpenApiDocument());
  for (const stale of staleFiles(files)) {
    fs.rmSync(path.join(sdkDir, stale));
    console.log(`removed ${stale}`);
  }
  let changed = 0;
  for (const [relative, content] of files) {
    const target = path.join(sdkDir, relative);
    if (fs.existsSync(target) && fs.readFileSync(target, 'utf8') === content) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    changed++;
    console.log(`wrote ${relative}`);
  }
  console.log(`${files.size} files generated, ${changed} changed`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
