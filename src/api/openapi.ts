// The OpenAPI 3.1 document of the API, generated from the same route objects and schemas fastify validates
// with, so the document cannot drift from what the server accepts. Served at /api/v1/openapi.json.
import { pathParameters, type ApiModule, type JsonSchema, type RouteSpec } from './route.ts';

export const API_PREFIX = '/api/v1';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
  description?: string;
}

function parameters(route: RouteSpec): Parameter[] {
  const out: Parameter[] = [];
  const pathProps = (route.params?.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of pathParameters(route.path)) {
    const schema = pathProps[name] ?? { type: 'string' };
    out.push({ name, in: 'path', required: true, schema, ...(typeof schema.description === 'string' ? { description: schema.description } : {}) });
  }
  const queryProps = (route.query?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((route.query?.required as string[] | undefined) ?? []);
  for (const [name, schema] of Object.entries(queryProps)) {
    out.push({ name, in: 'query', required: required.has(name), schema, ...(typeof schema.description === 'string' ? { description: schema.description } : {}) });
  }
  return out;
}

function operation(route: RouteSpec, tag: string): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [code, r] of Object.entries(route.responses)) {
    const content = r.eventStream
      ? { 'text/event-stream': { schema: { type: 'string', description: 'server-sent events (id, event and data lines, blank-line separated)' } } }
      : r.text
      ? { 'text/plain': { schema: { type: 'string' } } }
      : r.schema !== undefined
        ? { 'application/json': { schema: r.schema } }
        : undefined;
    responses[code] = { description: r.description, ...(content ? { content } : {}) };
  }
  // Every route can answer these; listing them tells clients what an error looks like.
  responses['400'] ??= { description: 'bad request: the message says what is wrong', content: { 'text/plain': { schema: { type: 'string' } } } };
  responses['401'] = { description: 'the node requires a bearer token (--api-token-file) and none or a wrong one was sent', content: { 'text/plain': { schema: { type: 'string' } } } };
  const params = parameters(route);
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [tag],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    responses,
  };
}

/** The document for `routes` (each with the tag of its module). */
export function openApiDocument(info: OpenApiInfo, modules: readonly { module: ApiModule; routes: readonly RouteSpec[] }[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, JsonSchema> = {};
  for (const { module, routes } of modules) {
    for (const [name, schema] of Object.entries(module.schemas ?? {})) {
      if (Object.hasOwn(schemas, name)) throw new Error(`API schema ${name} is defined twice`);
      schemas[name] = schema;
    }
    for (const route of routes) {
      const path = `${API_PREFIX}${route.path}`;
      paths[path] ??= {};
      paths[path][route.method.toLowerCase()] = operation(route, module.tag);
    }
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    tags: modules.map(({ module }) => ({ name: module.tag, description: module.description })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'required only when the node runs with --api-token-file' },
      },
    },
    // No token, or a bearer token: which one depends on how the node was started.
    security: [{}, { bearer: [] }],
  };
}
