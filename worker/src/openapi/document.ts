// The OpenAPI 3.1 description of the gateway's API, built from the route table (operations.ts) and the zod schemas it
// names; built once per isolate, on first request.
import workerPackage from "../../package.json" with { type: "json" };
import { ERROR_STATUSES, type ErrorCode } from "./errors.js";
import { EVERY_ANSWER, HEADERS, type HeaderName } from "./headers.js";
import { componentSchemas, inlineSchema, type JsonSchema, schemaRef } from "./json-schema.js";
import type { Answer, Operation, Parameter } from "./operation.js";
import { OPERATIONS } from "./operations.js";
import { ALL_METHODS, type HttpMethod, openApiPath, pathParams } from "./paths.js";
import { Answers, Requests, SHARED } from "./schemas.js";
import { SECURITY_SCHEMES, securityOf } from "./security.js";

type Json = Record<string, unknown>;

const DESCRIPTION =
  "An OpenAI-compatible API answered by a mesh of community inference nodes. Clients use `/v1/*` with an API key; the operator `/admin/*` with the admin token; nodes sign their requests (RFC 9421). Every error is OpenAI's `{error: {message, type, param, code}}`.";

const TAGS = ["Inference", "Models", "Usage", "Settlements", "Nodes", "Gateway", "Admin"].map((name) => ({ name }));

const headerRefs = (names: readonly HeaderName[]): Json =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

const STREAM = {
  schema: { type: "string", description: "Server-sent events: `data: <chunk JSON>` lines, the last `data: [DONE]`." },
};

function answerObject(answer: Answer): Json {
  if (answer.upgrade) return { description: answer.description };
  const content: Json = {};
  if (answer.json) content["application/json"] = { schema: schemaRef(answer.json.id) };
  if (answer.stream) content["text/event-stream"] = STREAM;
  if (answer.csv) content["text/csv"] = { schema: { type: "string" } };
  const headers = [
    ...EVERY_ANSWER,
    ...(answer.headers ?? []),
    ...(answer.csv ? (["Content-Disposition"] as const) : []),
  ];
  return { description: answer.description, headers: headerRefs(headers), content };
}

function responses(op: Operation): Json {
  const answers = Object.entries(op.answers).map(([status, answer]) => [status, answerObject(answer)]);
  const errors = [...op.errors, 500].map((status) => [
    String(status),
    { $ref: `#/components/responses/Error${status}` },
  ]);
  return Object.fromEntries([...answers, ...errors]);
}

function parameter(name: string, where: "path" | "query", p: Parameter): Json {
  return {
    name,
    in: where,
    required: where === "path" || p.required === true,
    description: p.description,
    schema: inlineSchema(p.schema, "input"),
  };
}

/** Path parameters as the path names them (each described in the table), then the query's. */
function parameters(op: Operation): Json[] {
  const names = pathParams(op.path);
  const described = Object.keys(op.params ?? {});
  const undescribed = names.filter((n) => !described.includes(n));
  const stray = described.filter((n) => !names.includes(n));
  if (undescribed.length > 0 || stray.length > 0)
    throw new Error(`${op.operationId}: path parameters ${names.join(", ")} but described ${described.join(", ")}.`);
  const path = names.map((name) => parameter(name, "path", op.params?.[name] as Parameter));
  const query = Object.entries(op.query ?? {}).map(([name, p]) => parameter(name, "query", p));
  return [...path, ...query];
}

function operationObject(op: Operation, method: HttpMethod): Json {
  const params = parameters(op);
  return {
    operationId: op.method === "all" ? `${op.operationId}_${method}` : op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description === undefined ? {} : { description: op.description }),
    security: securityOf(op.auth),
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(op.body === undefined
      ? {}
      : {
          requestBody: {
            required: op.body.required,
            content: { "application/json": { schema: schemaRef(op.body.named.id) } },
          },
        }),
    responses: responses(op),
  };
}

function paths(operations: readonly Operation[]): Json {
  const items: Record<string, Json> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    const item = items[path] ?? {};
    items[path] = item;
    for (const method of op.method === "all" ? ALL_METHODS : [op.method]) {
      if (Object.hasOwn(item, method)) throw new Error(`Two operations for ${method} ${op.path}.`);
      item[method] = operationObject(op, method);
    }
  }
  return items;
}

function errorResponses(): Json {
  const codes = Object.keys(ERROR_STATUSES).map(Number) as ErrorCode[];
  return Object.fromEntries(
    codes.map((status) => {
      const { description, headers } = ERROR_STATUSES[status];
      const content = { "application/json": { schema: schemaRef(Answers.Error.id) } };
      return [`Error${status}`, { description, headers: headerRefs([...EVERY_ANSWER, ...headers]), content }];
    }),
  );
}

export function buildDocument(operations: readonly Operation[] = OPERATIONS): Json {
  const schemas: Record<string, JsonSchema> = componentSchemas(Object.values(Requests), [
    ...Object.values(Answers),
    ...SHARED,
  ]);
  return {
    openapi: "3.1.0",
    info: { title: "Meshgate", version: workerPackage.version, description: DESCRIPTION },
    tags: TAGS,
    paths: paths(operations),
    components: { schemas, responses: errorResponses(), headers: HEADERS, securitySchemes: SECURITY_SCHEMES },
  };
}

let built: Json | null = null;

/** The description, built on first use: it depends only on the code, so one per isolate. */
export function openApiDocument(): Json {
  built ??= buildDocument();
  return built;
}
