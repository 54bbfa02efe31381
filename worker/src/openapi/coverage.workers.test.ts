// The description and the router, held together: a route without an operation, or an operation without a route,
// fails here (importing the router needs the Workers runtime: its routes reach the Durable Objects).
import { describe, expect, it } from "vitest";
import { router } from "../app.js";
import { PAGE_PATHS } from "../routes/pages.js";
import { openApiDocument } from "./document.js";
import { ALL_METHODS, openApiPath } from "./paths.js";

/** `METHOD /path` for every method and path the router answers, but the catch-all and the web pages (HTML). */
function routed(): string[] {
  const pages: readonly string[] = PAGE_PATHS;
  return router.routes
    .filter(([, , , path = ""]) => path !== "*" && !pages.includes(path))
    .flatMap(([method, , , path = ""]) =>
      (method === "ALL" ? ALL_METHODS : [method.toLowerCase()]).map((m) => `${m} ${openApiPath(path)}`),
    );
}

type Paths = Record<string, Record<string, { summary?: string }>>;

function described(): string[] {
  const paths = openApiDocument()["paths"] as Paths;
  return Object.entries(paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
}

describe("the description covers the router", () => {
  it("has an operation for every route, and a route for every operation", () => {
    expect(described().sort()).toEqual(routed().sort());
  });

  it("summarizes every operation", () => {
    const paths = openApiDocument()["paths"] as Paths;
    const unsummarized = Object.entries(paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => !op.summary)
        .map(([method]) => `${method} ${path}`),
    );
    expect(unsummarized).toEqual([]);
  });
});
