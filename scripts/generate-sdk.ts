/**
 * Generates packages/sdk (@sessiond/sdk) from the service's own OpenAPI document: the API classes
 * (src/apis), the types of every component schema (src/models), src/index.ts, the per-API docs
 * (docs/*.md, in openapi-generator's typescript-fetch format) and README.md. src/runtime.ts is
 * hand-written and not touched.
 *
 * The document is the committed openapi.json, which `npm run generate:openapi` writes from the
 * app's own route schemas (the same TypeBox schemas that validate requests), so there is no
 * hand-synced copy. packages/server/test/http/contract.test.ts fails when openapi.json is stale,
 * packages/sdk/test/sync.test.ts when the SDK does not match it.
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
import { UUID_PATTERN } from '../packages/server/src/http/uuid.ts';

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

/** The committed OpenAPI document (openapi.json, written by `npm run generate:openapi`). */
export const openApiFile = path.resolve(import.meta.dirname, '../openapi.json');

/** Reads the committed OpenAPI document: the SDK is generated from the file, not from a running service. */
export function loadOpenApiDocument(): OpenApiDocument {
  return JSON.parse(fs.readFileSync(openApiFile, 'utf8')) as OpenApiDocument;
}

// ---------------------------------------------------------------------------------------------
// Names, as openapi-generator's typescript-fetch makes them

const words = (name: string) => name.split(/[^A-Za-z0-9]+/).filter(Boolean);
/** x-refresh-transport -> X-Refresh-Transport (how the header is written on the wire and in docs). */
const headerCase = (name: string) => name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('-');
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
      // As typescript-fetch: date-time values are Date objects in the SDK, ISO 8601 on the wire.
      return schema.format === 'date-time' ? 'Date' : 'string';
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
  in: 'path' | 'query' | 'header' | 'body';
  /** For a header parameter: the header's name on the wire. */
  wireName?: string;
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
  /** Expression (of `jsonValue`) turning the 2xx JSON into the SDK type, when it needs converting. */
  responseTransform?: string;
  /** Component name of the JSON body, converted with its ToJSON helper. */
  bodyModel?: string;
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

  // Cookie parameters are left out, as typescript-fetch does: the browser sends cookies itself.
  const params: Param[] = (raw.parameters ?? []).filter((p) => p.in !== 'cookie').map((p) => {
    if (p.in !== 'path' && p.in !== 'query' && p.in !== 'header') throw new Error(`${where}: ${p.in} parameter ${p.name} is not supported`);
    const schema = p.schema ?? {};
    // A query parameter with a default is optional for the caller: the service fills it in.
    const required = p.in === 'path' || (p.required === true && schema.default === undefined);
    // typescript-fetch names a header parameter in camelCase: X-Refresh-Transport -> xRefreshTransport.
    const name = p.in === 'header' ? methodName(p.name) : p.name;
    return { name, in: p.in, wireName: p.in === 'header' ? p.name : undefined, required, tsType: paramType(schema, ctx(p.name)), description: p.description ?? schema.description, schema };
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
    responseTransform: successSchema && needsConversion(successSchema, where) ? convert(successSchema, 'jsonValue', 'FromJSON', ctx('response')) : undefined,
    bodyModel: raw.requestBody ? refName(raw.requestBody.content!['application/json']!.schema!.$ref!) : undefined,
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

// JSON <-> model conversions, as typescript-fetch writes them: dates become Date objects, nested
// models convert through their own helpers, everything else passes through unchanged.

const isDateTime = (schema: Schema) => schema.type === 'string' && schema.format === 'date-time';
const nonNull = (schema: Schema) => (schema.anyOf ?? schema.oneOf)?.filter((s) => !isNullSchema(s));

/** Whether a JSON value of this schema needs converting to reach its SDK type. */
function needsConversion(schema: Schema, where: string): boolean {
  if (schema.$ref || isDateTime(schema)) return true;
  const alternatives = nonNull(schema);
  if (alternatives) {
    const converting = alternatives.filter((s) => needsConversion(s, where));
    if (converting.length > 0 && alternatives.length > 1) throw new Error(`${where}: a union of several types that need converting is not supported`);
    return converting.length > 0;
  }
  if (schema.type === 'array') return needsConversion(schema.items ?? {}, where);
  if (schema.properties && Object.values(schema.properties).some((p) => needsConversion(p, where))) {
    throw new Error(`${where}: an inline object with dates or models inside is not supported (make it a component)`);
  }
  return false;
}

/** A TypeScript expression converting `expr` between JSON and the SDK type of `schema`. */
function convert(schema: Schema, expr: string, direction: 'FromJSON' | 'ToJSON', ctx: TypeContext): string {
  if (schema.$ref) {
    const name = refName(schema.$ref);
    ctx.refs.add(name);
    return `${name}${direction}(${expr})`;
  }
  if (isDateTime(schema)) return direction === 'FromJSON' ? `(new Date(${expr}))` : `${expr}.toISOString()`;
  const alternatives = nonNull(schema);
  if (alternatives) {
    const converting = alternatives.find((s) => needsConversion(s, ctx.where));
    if (!converting) return expr;
    return `(${expr} == null ? ${expr} : ${convert(converting, expr, direction, ctx)})`;
  }
  if (schema.type === 'array' && schema.items && needsConversion(schema.items, ctx.where)) {
    return `((${expr} as Array<any>).map((item: any) => ${convert(schema.items, 'item', direction, ctx)}))`;
  }
  return expr;
}

/** The conversion of one property: optional properties stay undefined when absent. */
function propertyConversion(name: string, property: Schema, required: boolean, source: 'json' | 'value', direction: 'FromJSON' | 'ToJSON', ctx: TypeContext): string {
  const access = `${source}[${quote(name)}]`;
  const converted = convert(property, access, direction, { ...ctx, where: `${ctx.where}.${name}` });
  if (required) return converted;
  if (direction === 'FromJSON') return `${access} == null ? undefined : ${converted}`;
  return converted === access ? access : `${access} == null ? ${access} : ${converted}`;
}

function modelHelpers(name: string, schema: Schema, ctx: TypeContext): string[] {
  const required = new Set(schema.required ?? []);
  const properties = Object.entries(schema.properties ?? {});
  const isObject = properties.length > 0;
  const checks = properties
    .filter(([prop]) => required.has(prop))
    .map(([prop]) => `  if (!(${quote(prop)} in value) || value[${quote(prop)}] === undefined) return false;`);
  const mapped = (source: 'json' | 'value', direction: 'FromJSON' | 'ToJSON') =>
    properties.map(([prop, property]) => `    ${quote(prop)}: ${propertyConversion(prop, property, required.has(prop), source, direction, ctx)},`);
  return [
    ...docComment([`Whether \`value\` has every required property of ${name}.`], ''),
    `export function instanceOf${name}(value: object): value is ${name} {`,
    ...(isObject ? checks : [`  return value !== undefined;`]),
    ...(isObject ? ['  return true;'] : []),
    '}',
    '',
    `export function ${name}FromJSON(json: any): ${name} {`,
    `  return ${name}FromJSONTyped(json, false);`,
    '}',
    '',
    `export function ${name}FromJSONTyped(json: any, ignoreDiscriminator: boolean): ${name} {`,
    '  if (json == null) {',
    '    return json;',
    '  }',
    ...(isObject ? ['  return {', ...mapped('json', 'FromJSON'), '  };'] : ['  return json;']),
    '}',
    '',
    `export function ${name}ToJSON(json: any): ${name} {`,
    `  return ${name}ToJSONTyped(json, false);`,
    '}',
    '',
    `export function ${name}ToJSONTyped(value?: ${name} | null, ignoreDiscriminator: boolean = false): any {`,
    '  if (value == null) {',
    '    return value;',
    '  }',
    ...(isObject ? ['  return {', ...mapped('value', 'ToJSON'), '  };'] : ['  return value;']),
    '}',
  ];
}

function modelFile(name: string, schema: Schema): string {
  const ctx: TypeContext = { refs: new Set(), where: `components.schemas.${name}` };
  const isObject = (schema.type === 'object' || schema.type === undefined) && schema.properties !== undefined;
  const body = isObject
    ? [`export interface ${name} {`, ...objectMembers(schema, ctx, '  '), '}']
    : [`export type ${name} = ${tsType(schema, ctx)};`];
  const helpers = modelHelpers(name, schema, ctx);
  const docLines = schema.description ? [schema.description] : [];
  const imports = [...ctx.refs].filter((n) => n !== name).sort().flatMap((n) => {
    const used = [`${n}FromJSON`, `${n}ToJSON`].filter((helper) => helpers.some((line) => line.includes(`${helper}(`)));
    return [`import type { ${n} } from './${n}.ts';`, ...(used.length > 0 ? [`import { ${used.join(', ')} } from './${n}.ts';`] : [])];
  });
  return file([
    '/* eslint-disable */',
    ...imports,
    '',
    ...docComment(docLines, ''),
    ...body,
    '',
    ...helpers,
  ]);
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
    byLocation('header').length > 0
      ? `headerParams: { ${op.params.filter((p) => p.in === 'header').map((p) => `${propertyKey(p.name)}: ${quote(headerCase(p.wireName!))}`).join(', ')} }`
      : undefined,
    required.length > 0 ? `required: ${list(required)}` : undefined,
    body ? `body: ${quote(body.name)}` : undefined,
    op.bodyModel ? `bodyToJSON: ${op.bodyModel}ToJSON` : undefined,
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
    '    initOverrides?: runtime.RequestOverrides | runtime.InitOverrideFunction,',
  ];
  const args = hasParams ? 'requestParameters, initOverrides' : 'initOverrides';
  const sent = hasParams ? 'requestParameters' : '{}';
  const isVoid = op.returnType === 'void';
  const apiResponse = isVoid
    ? 'new runtime.VoidApiResponse(response)'
    : op.responseTransform
      ? `new runtime.JSONApiResponse(response, (jsonValue) => ${op.responseTransform})`
      : `new runtime.JSONApiResponse<${op.returnType}>(response)`;
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
  const helpers = api.operations.flatMap((op) => [
    ...(op.bodyModel ? [`${op.bodyModel}ToJSON`] : []),
    ...[...(op.responseTransform ?? '').matchAll(/\b(\w+FromJSON)\(/g)].map((m) => m[1]!),
  ]);
  const modelImport = [
    ...(refs.length > 0 ? [`import type { ${[...new Set(refs)].sort().join(', ')} } from '../models/index.ts';`] : []),
    ...(helpers.length > 0 ? [`import { ${[...new Set(helpers)].sort().join(', ')} } from '../models/index.ts';`] : []),
  ];
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
      if (schema.format === 'uuid' || schema.pattern === UUID_PATTERN) return quote(uuidExample);
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
    "service's committed OpenAPI document (`openapi.json`) by `scripts/generate-sdk.ts`. Do not edit the generated",
    'files: change the route schemas in `packages/server`, run `npm run generate:openapi`, then `npm run generate:sdk`',
    '(a test fails while they differ).',
    '',
    '- ES modules and CommonJS, each with type declarations; Node 20+ and browsers (it uses the global `fetch`, nothing Node-only).',
    '- No dependencies.',
    '- Every model has typescript-fetch\'s helpers: `XFromJSON`, `XFromJSONTyped`, `XToJSON`, `XToJSONTyped`, `instanceOfX`.',
    '- `date-time` fields are `Date` objects, as typescript-fetch makes them (ISO 8601 strings on the wire).',
    "- Integer parameters (`page`, `limit`) accept numbers or strings; query parameters with a server default are optional.",
    `- Left out: the ${excluded} tag (health check and JWKS), which serves load balancers and token verifiers rather than apps.`,
    '',
    '## Build',
    '',
    '```sh',
    `npm run build -w ${packageName}   # -> packages/sdk/dist/esm and dist/cjs (npm pack runs it too)`,
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
    '| `timeoutMs` | Abandons every request (retries included) after this many milliseconds: a `FetchError` whose cause is a `TimeoutError`. |',
    '| `signal` | An `AbortSignal` that aborts every request made with this configuration. |',
    '| `retry` | Retries of idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) answered 503, after `Retry-After`: `{ maxRetries: 2, maxDelayMs: 10000 }` by default; a longer `Retry-After` returns the 503; `false` turns retries off. POST is never retried. |',
    '| `username`, `password` | HTTP basic credentials (typescript-fetch\'s; no sessiond operation uses them). |',
    '',
    'Every method takes a last, optional `initOverrides`: a `RequestInit` plus `timeoutMs` (e.g. `{ timeoutMs: 5000 }` or',
    '`{ signal: controller.signal }`), or a function of the request that returns a `RequestInit`.',
    '',
    '## Token lifecycle',
    '',
    '`TokenLifecycle` keeps the tokens of a sign-in, gives the access token to every request and, when a request is',
    'answered 401, refreshes once (one `POST /auth/refresh` however many requests failed together) and sends that request',
    'again, once. Each new pair goes to `onTokens` (refresh tokens are single use: store the new one); a refused refresh',
    '(session revoked) clears the tokens and calls `onTokens(undefined)`: sign in again.',
    '',
    '```ts',
    `import { AuthApi, Configuration, SessionsApi, TokenLifecycle } from '${packageName}';`,
    '',
    "const basePath = 'https://sessions.example.com';",
    "const signedIn = await new AuthApi(new Configuration({ basePath })).authControllerLogin({ loginRequest: { email: 'ada@example.com', password: 'correct horse battery staple' } });",
    'const lifecycle = new TokenLifecycle({ basePath, tokens: signedIn, onTokens: (tokens) => console.log(tokens ? "refreshed" : "signed out") });',
    'const sessions = new SessionsApi(lifecycle.configuration());',
    'console.log(await sessions.sessionControllerGetSessionCount());',
    '```',
    '',
    '## Errors',
    '',
    '| Error | When | Carries |',
    '|------------- | ------------- | -------------|',
    '| `ResponseError` | The service answered with a non-2xx status. | `response`, and from the problem details body: `status`, `type` (stable URI such as `urn:sessiond:problem:invalid-token`), `title`, `detail`, `problem` (the whole body). |',
    '| `RequiredError` | A required parameter was missing; nothing was sent. | `field` |',
    '| `FetchError` | No answer: connection refused, DNS failure, timeout, abort. The message names the method, the URL and the cause (`GET http://localhost/sessions failed: fetch failed: connect ECONNREFUSED 127.0.0.1:80`). | `cause`, `url`, `method` |',
    '',
    '## Differences from typescript-fetch',
    '',
    'Code written for the client openapi-generator\'s `typescript-fetch` makes from `openapi.json` compiles against this',
    'package once the import is changed (test/typescript-fetch-compat.test.ts checks each model helper and runtime export). What differs, and why:',
    '',
    '- `ResponseError` also carries the problem details (`status`, `type`, `title`, `detail`, `problem`): every error answer is RFC 9457.',
    '- `FetchError` has `url` and `method` and says them in its message, with the cause (typescript-fetch says the same for every failure).',
    '- Additions: `timeoutMs`, `signal` and `retry` in `Configuration`, `timeoutMs` per call, `TokenLifecycle`.',
    '- Integer query and path parameters take `number | string` (typescript-fetch: `number`), so the specification\'s examples, which pass strings, compile.',
    '- The `Meta` operations (health, readiness, JWKS) have no client: they serve load balancers and token verifiers, not apps.',
    '- One shared `execute` in the runtime reads the request parameters instead of code spelled out in each method; the methods, their names, parameters and results are the same.',
    '- No `…ApiInterface` types (typescript-fetch makes them only with `withInterfaces=true`).',
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
  const runtimeNames = ['Configuration', 'BaseAPI', 'ResponseError', 'RequiredError', 'FetchError', 'Middleware', 'Operation', 'ApiResponse', 'TokenLifecycle', 'Tokens'];
  const exported = [...runtimeNames, ...Object.keys(schemas), ...apis.flatMap((a) => [a.className, ...a.operations.map((o) => o.requestTypeName)])];
  const clash = exported.find((name, i) => exported.indexOf(name) !== i);
  if (clash) throw new Error(`two exports would be named ${clash}`);
  if (!schemas.Problem) throw new Error('components.schemas.Problem is missing: src/runtime.ts types ResponseError.problem with it');

  const modelNames = Object.keys(schemas).sort();
  for (const name of modelNames) files.set(`src/models/${name}.ts`, modelFile(name, schemas[name]!));
  files.set('src/models/index.ts', file(modelNames.map((n) => `export * from './${n}.ts';`)));

  for (const api of apis) {
    files.set(`src/apis/${api.className}.ts`, apiFile(api));
    files.set(`docs/${api.className}.md`, apiDoc(api, doc));
  }
  files.set('src/apis/index.ts', file(apis.map((a) => `export * from './${a.className}.ts';`)));
  files.set('src/index.ts', file(["export * from './runtime.ts';", "export * from './apis/index.ts';", "export * from './models/index.ts';", "export * from './token-lifecycle.ts';", "export * from './session-events.ts';"]));
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
  const files = generateFiles(loadOpenApiDocument());
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
