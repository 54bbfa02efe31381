// zod schemas as OpenAPI 3.1's JSON Schema (draft 2020-12): request bodies and parameters as zod reads them (io
// "input"), answers as the gateway writes them (io "output"); named schemas become components/schemas and refer to
// one another by $ref.
import { z } from "zod";
import type { Named } from "./schemas.js";

export type JsonSchema = Record<string, unknown>;
type Io = "input" | "output";

const COMPONENTS = "#/components/schemas/";
export const schemaRef = (id: string): JsonSchema => ({ $ref: `${COMPONENTS}${id}` });

/** zod's z.int() says ±(2^53 - 1); the gateway's sums are exact integers past it, and the bound says nothing. */
function dropSafeIntegerBounds(ctx: { jsonSchema: z.core.JSONSchema.BaseSchema }): void {
  if (ctx.jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete ctx.jsonSchema.minimum;
  if (ctx.jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete ctx.jsonSchema.maximum;
}

const options = (io: Io) => ({ target: "draft-2020-12", io, override: dropSafeIntegerBounds }) as const;

/** Within components, a schema's dialect and place are the document's: its own `$schema` and `$id` would repeat them. */
function bare(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

/** One schema, inline (a parameter's). */
export function inlineSchema(schema: z.ZodType, io: Io): JsonSchema {
  return bare(z.toJSONSchema(schema, options(io)) as JsonSchema);
}

/** Named schemas, each once; one name for two schemas is a mistake in the table, refused. */
function registryOf(named: readonly Named[]) {
  const registry = z.registry<{ id: string }>();
  const seen = new Map<string, z.ZodType>();
  for (const { id, schema } of named) {
    const other = seen.get(id);
    if (other !== undefined && other !== schema) throw new Error(`Two schemas are named ${id}.`);
    seen.set(id, schema);
    registry.add(schema, { id });
  }
  return registry;
}

function converted(named: readonly Named[], io: Io): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registryOf(named), { ...options(io), uri: (id) => `${COMPONENTS}${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, bare(schema as JsonSchema)]));
}

/** components/schemas: requests read as input, answers written as output; a name is either, never both. */
export function componentSchemas(requests: readonly Named[], answers: readonly Named[]): Record<string, JsonSchema> {
  const read = converted(requests, "input");
  const written = converted(answers, "output");
  const both = Object.keys(read).filter((id) => Object.hasOwn(written, id));
  if (both.length > 0) throw new Error(`Named as a request and as an answer: ${both.join(", ")}.`);
  return { ...read, ...written };
}
