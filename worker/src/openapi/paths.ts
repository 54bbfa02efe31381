// The router's paths (itty-router's `:id`, greedy `:id+`, and `*`) as OpenAPI spells them (`{id}`), and the methods a
// route answers: an `.all()` route answers every method, so its description has one operation for each of these.
export const ALL_METHODS = ["get", "put", "post", "delete", "patch"] as const;
export type HttpMethod = (typeof ALL_METHODS)[number];

/** The name OpenAPI gives the rest of a path matched by `*`. */
export const REST_PARAM = "rest";

/** The router keeps a path without its trailing slash: its "/" is "". */
export function openApiPath(routerPath: string): string {
  return routerPath.replace(/:(\w+)\+?/g, "{$1}").replace(/\*/g, `{${REST_PARAM}}`) || "/";
}

/** The path parameters of a router path, in order. */
export function pathParams(routerPath: string): string[] {
  return [...openApiPath(routerPath).matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "");
}
