// What the description says about one route: the shape of an entry of the route table (operations.ts).
import type { z } from "zod";
import type { ErrorCode } from "./errors.js";
import type { HeaderName } from "./headers.js";
import type { HttpMethod } from "./paths.js";
import type { Named } from "./schemas.js";
import type { Auth } from "./security.js";

export type Tag = "Inference" | "Models" | "Usage" | "Settlements" | "Nodes" | "Gateway" | "Admin";

export interface Answer {
  description: string;
  /** The `application/json` body. */
  json?: Named;
  /** `format=csv` answers `text/csv` instead. */
  csv?: boolean;
  /** `stream: true` answers `text/event-stream` instead. */
  stream?: boolean;
  /** Besides `x-request-id` and `x-meshgate-node`, which every answer but a WebSocket upgrade carries. */
  headers?: readonly HeaderName[];
  /** An accepted WebSocket upgrade: no body, none of the headers. */
  upgrade?: boolean;
}

export interface Parameter {
  schema: z.ZodType;
  description: string;
  required?: boolean;
}

export interface Operation {
  /** As the router has it: `all` for a route of every method. */
  method: HttpMethod | "all";
  /** As the router spells it (`:id`, `:id+`, `*`). */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  auth: Auth;
  /** Path parameters by name: each must be in the path. */
  params?: Readonly<Record<string, Parameter>>;
  query?: Readonly<Record<string, Parameter>>;
  body?: { named: Named; required: boolean };
  /** The successful answers, by status. */
  answers: Readonly<Record<number, Answer>>;
  /** Refusals besides 500, which any route may answer. */
  errors: readonly ErrorCode[];
}
