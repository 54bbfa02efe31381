import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildDocument } from "./document.js";
import { componentSchemas } from "./json-schema.js";
import type { Operation } from "./operation.js";
import { OPERATIONS } from "./operations.js";

type Json = Record<string, unknown>;

const document = buildDocument();
const schemas = (document["components"] as { schemas: Record<string, Json> }).schemas;

describe("the OpenAPI description", () => {
  it("passes a standard OpenAPI 3.1 validator", async () => {
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("has one operation id per operation", () => {
    const ids = Object.values(document["paths"] as Record<string, Record<string, { operationId: string }>>).flatMap(
      (item) => Object.values(item).map((op) => op.operationId),
    );
    expect(ids.length).toBeGreaterThan(OPERATIONS.length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("describes request bodies as the routes read them: an admin body refuses a field it does not know", () => {
    expect(schemas["CreateKeyRequest"]).toMatchObject({ required: ["name"], additionalProperties: false });
    // Chat requests pass unknown fields (tools, seed, …) on to the node.
    expect(schemas["ChatCompletionRequest"]?.["additionalProperties"]).not.toBe(false);
  });

  it("names shared schemas once and refers to them", () => {
    const usage = JSON.stringify(schemas["UsageReport"]);
    expect(usage).toContain('"$ref":"#/components/schemas/UsageRow"');
    expect(usage).toContain('"$ref":"#/components/schemas/UsageTotals"');
    expect(JSON.stringify(schemas)).not.toContain('"$id"');
  });

  it("does not bound integers by JavaScript's safe range (usage sums are exact past it)", () => {
    expect(JSON.stringify(schemas["UsageTotals"])).not.toContain(String(Number.MAX_SAFE_INTEGER));
  });
});

describe("the builder", () => {
  const base: Operation = {
    method: "get",
    path: "/things/:id",
    operationId: "thing",
    tag: "Gateway",
    summary: "A thing",
    auth: "public",
    params: { id: { schema: z.string(), description: "Its id." } },
    answers: { 200: { description: "The thing." } },
    errors: [],
  };

  it("refuses a path parameter the table does not describe, or one the path lacks", () => {
    expect(() => buildDocument([{ ...base, params: {} }])).toThrow(/path parameters id/);
    expect(() => buildDocument([{ ...base, path: "/things" }])).toThrow(/described id/);
    expect(() => buildDocument([base])).not.toThrow();
  });

  it("refuses two operations for one method and path", () => {
    expect(() => buildDocument([base, { ...base, operationId: "again" }])).toThrow(/Two operations/);
  });

  it("refuses one name for two schemas, or for a request and an answer", () => {
    const a = { id: "A", schema: z.object({ a: z.string() }) };
    expect(() => componentSchemas([a, { id: "A", schema: z.object({ b: z.string() }) }], [])).toThrow(/Two schemas/);
    expect(() => componentSchemas([a], [a])).toThrow(/request and as an answer/);
  });
});
