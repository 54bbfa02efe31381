// The route table of the description: one entry per route of app.ts (the coverage test holds the two together). A new
// route is one entry here, and a schema in schemas.ts if its body or answer is new.
import { NodeIdSchema, UsageGroupingSchema } from "@meshgate/schemas";
import { z } from "zod";
import { DEFAULT_LIMIT, MAX_LIMIT } from "../billing/usage-params.js";
import { INFERENCE_ANSWER } from "./headers.js";
import type { Answer, Operation, Parameter } from "./operation.js";
import { Answers, Requests } from "./schemas.js";

const INSTANT = "Unix seconds or ISO 8601.";

function usageQuery(groupings: readonly string[], defaultGrouping: string): Readonly<Record<string, Parameter>> {
  return {
    from: { schema: z.string(), description: `Start of the range, inclusive (default: the epoch). ${INSTANT}` },
    to: { schema: z.string(), description: `End of the range, exclusive (default: now). ${INSTANT}` },
    group_by: { schema: z.enum(groupings), description: `One row per group (${defaultGrouping}).` },
    format: { schema: z.enum(["json", "csv"]), description: "`csv` for a spreadsheet." },
    limit: {
      schema: z.int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
      description: "Rows at most, newest first (ungrouped only).",
    },
  };
}

const inferenceAnswer = (what: string, json: Answer["json"], stream: boolean): Answer => ({
  description: `${what}: the answering node's body, passed on as its server wrote it.`,
  ...(json ? { json } : {}),
  stream,
  headers: INFERENCE_ANSWER,
});

const INFERENCE_ERRORS = [400, 401, 404, 413, 415, 429, 502, 503] as const;
const INFERENCE_DESCRIPTION =
  "Any field besides those described is forwarded to the node untouched. Routing controls in the body (`provider`, `models`) choose among nodes (docs/routing.md). A node's own 4xx reaches the client with the node's status, in OpenAI's error shape.";

/** Stored responses: nothing is stored, so every such route is a 400 saying so (routes/unsupported.ts). */
function storedResponses(
  method: Operation["method"],
  path: string,
  operationId: string,
  params?: Operation["params"],
): Operation {
  return {
    method,
    path,
    operationId,
    tag: "Inference",
    summary: "Stored responses: not kept",
    description:
      "Meshgate stores no response and no conversation text: 400 `unsupported_stateful_feature`, param `response_id`. Send the whole conversation in `input` with each POST /v1/responses.",
    auth: "public",
    ...(params ? { params } : {}),
    answers: {},
    errors: [400],
  };
}

const KEY_ID: Parameter = { schema: z.string(), description: "The key's id (`key_…`)." };
const NODE_ID: Parameter = { schema: NodeIdSchema, description: "The node's id (its first key's thumbprint)." };
const SETTLEMENT_ID: Parameter = { schema: z.string().max(64), description: "The settlement's id." };

const INFERENCE: readonly Operation[] = [
  {
    method: "post",
    path: "/v1/chat/completions",
    operationId: "createChatCompletion",
    tag: "Inference",
    summary: "Create a chat completion, streamed or not",
    description: INFERENCE_DESCRIPTION,
    auth: "apiKey",
    body: { named: Requests.ChatCompletionRequest, required: true },
    answers: { 200: inferenceAnswer("The completion", Answers.ChatCompletion, true) },
    errors: INFERENCE_ERRORS,
  },
  {
    method: "post",
    path: "/v1/completions",
    operationId: "createCompletion",
    tag: "Inference",
    summary: "Create a text completion, streamed or not",
    description: INFERENCE_DESCRIPTION,
    auth: "apiKey",
    body: { named: Requests.CompletionRequest, required: true },
    answers: { 200: inferenceAnswer("The completion", Answers.Completion, true) },
    errors: INFERENCE_ERRORS,
  },
  {
    method: "post",
    path: "/v1/embeddings",
    operationId: "createEmbedding",
    tag: "Inference",
    summary: "Create embeddings",
    description: INFERENCE_DESCRIPTION,
    auth: "apiKey",
    body: { named: Requests.EmbeddingRequest, required: true },
    answers: { 200: inferenceAnswer("The embeddings", Answers.EmbeddingList, false) },
    errors: INFERENCE_ERRORS,
  },
  {
    method: "post",
    path: "/v1/responses",
    operationId: "createResponse",
    tag: "Inference",
    summary: "Create a response (OpenAI's Responses API, stateless), streamed or not",
    description:
      "Passed through as sent to a node that serves the Responses API itself for the model (it advertises `responses_api`); translated to a Chat Completions request for any other node and its answer back (`worker/src/responses/`). Admitted, routed, metered and billed as chat. A stream is OpenAI's Responses event sequence (`response.created` … `response.completed` with `usage`). Stateful fields (`previous_response_id`, `conversation`, `prompt`, `background: true`) and built-in tools are a 400 naming the field. Routing controls (`provider`, `models`) work as for chat.",
    auth: "apiKey",
    body: { named: Requests.ResponsesRequest, required: true },
    answers: {
      200: {
        description: "The Response, or its event stream when `stream: true`.",
        json: Answers.Response,
        stream: true,
        headers: INFERENCE_ANSWER,
      },
    },
    errors: INFERENCE_ERRORS,
  },
  storedResponses("get", "/v1/responses", "listResponses"),
  storedResponses("all", "/v1/responses/*", "storedResponse", {
    rest: { schema: z.string(), description: "The rest of the path (it may contain `/`)." },
  }),
];

const CLIENT: readonly Operation[] = [
  {
    method: "get",
    path: "/v1/mesh/status",
    operationId: "meshStatus",
    tag: "Models",
    summary: "The mesh at a glance: live nodes, models, the last hour's traffic",
    description:
      "What the status page (/status) shows. At most a few seconds old; `Cache-Control` says how long to keep it.",
    auth: "public",
    answers: { 200: { description: "The mesh's status.", json: Answers.MeshStatus } },
    errors: [503],
  },
  {
    method: "get",
    path: "/v1/models",
    operationId: "listModels",
    tag: "Models",
    summary: "List the models live nodes serve",
    auth: "apiKey",
    answers: { 200: { description: "The models, in OpenAI's list shape.", json: Answers.ModelList } },
    errors: [401, 503],
  },
  {
    method: "get",
    path: "/v1/models/:id+",
    operationId: "retrieveModel",
    tag: "Models",
    summary: "One model live nodes serve",
    auth: "apiKey",
    params: { id: { schema: z.string(), description: "The model id; it may contain `/`." } },
    answers: { 200: { description: "The model.", json: Answers.Model } },
    errors: [400, 401, 404, 503],
  },
  {
    method: "get",
    path: "/v1/usage",
    operationId: "usage",
    tag: "Usage",
    summary: "The calling key's usage and cost",
    description: "Rows newest first, or one row per group with `group_by`. Money is in integer micro-units.",
    auth: "apiKey",
    query: usageQuery(UsageGroupingSchema.exclude(["key"]).options, "default: none, one row per request"),
    answers: { 200: { description: "The usage report.", json: Answers.Usage, csv: true } },
    errors: [400, 401, 503],
  },
];

const SETTLEMENTS: readonly Operation[] = [
  {
    method: "get",
    path: "/v1/settlements",
    operationId: "listSettlements",
    tag: "Settlements",
    summary: "Closed settlement statements, newest first",
    auth: "public",
    query: {
      limit: { schema: z.int().min(1).max(100).default(20), description: "Statements at most." },
      after: { schema: z.string().max(64), description: "The id of the last statement of the previous page." },
    },
    answers: { 200: { description: "A page of statements.", json: Answers.SettlementList } },
    errors: [400, 503],
  },
  {
    method: "get",
    path: "/v1/settlements/:id",
    operationId: "retrieveSettlement",
    tag: "Settlements",
    summary: "A closed settlement statement, signed by the gateway",
    auth: "public",
    params: { id: SETTLEMENT_ID },
    answers: { 200: { description: "The statement.", json: Answers.Settlement, headers: ["Cache-Control"] } },
    errors: [404, 503],
  },
  {
    method: "get",
    path: "/v1/settlements/:id/proof",
    operationId: "settlementProof",
    tag: "Settlements",
    summary: "One node's receipts in a statement, each with its Merkle proof",
    description: "1,024 receipts a page: follow `page` + 1 while `has_more`.",
    auth: "public",
    params: { id: SETTLEMENT_ID },
    query: {
      node: { schema: NodeIdSchema, description: "The node's id.", required: true },
      page: { schema: z.int().min(0).max(1_000_000).default(0), description: "The page, from 0." },
    },
    answers: { 200: { description: "The page.", json: Answers.SettlementProof, headers: ["Cache-Control"] } },
    errors: [400, 404, 503],
  },
];

const NODES: readonly Operation[] = [
  {
    method: "get",
    path: "/v1/nodes",
    operationId: "listNodes",
    tag: "Nodes",
    summary: "The nodes that get traffic, with their keys",
    auth: "public",
    answers: { 200: { description: "Live, proven (or in session), unbanned nodes.", json: Answers.NodeList } },
    errors: [503],
  },
  {
    method: "post",
    path: "/v1/nodes/heartbeat",
    operationId: "heartbeat",
    tag: "Nodes",
    summary: "Register a node with a public URL, or keep it live",
    description: "The node gets traffic once it has proven it answers at its URL (`status: active`).",
    auth: "node",
    body: { named: Requests.Heartbeat, required: true },
    answers: { 200: { description: "The acknowledgement.", json: Answers.HeartbeatAck } },
    errors: [400, 401, 403, 409, 413, 429, 503],
  },
  {
    method: "get",
    path: "/v1/nodes/connect/:id",
    operationId: "connectNode",
    tag: "Nodes",
    summary: "Open a node's WebSocket session (a node without a public URL)",
    description:
      "A signed `Upgrade: websocket`; keep-alives, the node's state and its requests then travel the socket.",
    auth: "node",
    params: { id: NODE_ID },
    answers: { 101: { description: "The session is open.", upgrade: true } },
    errors: [400, 401, 403, 409, 426, 429, 503],
  },
  {
    method: "post",
    path: "/v1/nodes/rotate-key",
    operationId: "rotateNodeKey",
    tag: "Nodes",
    summary: "Move a node to a new key",
    description: "HTTP-signed by the old key; the body carries the new key's signature over the rotation statement.",
    auth: "node",
    body: { named: Requests.KeyRotationRequest, required: true },
    answers: { 200: { description: "The rotation.", json: Answers.KeyRotationAck } },
    errors: [400, 401, 403, 409, 413, 429, 503],
  },
];

const GATEWAY: readonly Operation[] = [
  {
    method: "get",
    path: "/",
    operationId: "root",
    tag: "Gateway",
    summary: "What answers here: name, version, the OpenAI base URL, links",
    auth: "public",
    answers: { 200: { description: "The gateway.", json: Answers.RootInfo } },
    errors: [],
  },
  {
    method: "get",
    path: "/openapi.json",
    operationId: "openapi",
    tag: "Gateway",
    summary: "This description (OpenAPI 3.1)",
    auth: "public",
    answers: { 200: { description: "The description.", json: Answers.OpenApiDocument, headers: ["Cache-Control"] } },
    errors: [],
  },
  {
    method: "get",
    path: "/.well-known/meshgate.json",
    operationId: "gatewayMetadata",
    tag: "Gateway",
    summary: "The gateway's keys, heartbeat settings and price ceilings",
    auth: "public",
    answers: { 200: { description: "The metadata.", json: Answers.GatewayMetadata, headers: ["Cache-Control"] } },
    errors: [],
  },
];

const ADMIN: readonly Operation[] = [
  {
    method: "post",
    path: "/admin/keys",
    operationId: "createKey",
    tag: "Admin",
    summary: "Create an API key",
    auth: "admin",
    body: { named: Requests.CreateKeyRequest, required: true },
    answers: { 201: { description: "The key, its secret shown this once.", json: Answers.CreatedApiKey } },
    errors: [400, 401, 413, 415, 503],
  },
  {
    method: "get",
    path: "/admin/keys",
    operationId: "listKeys",
    tag: "Admin",
    summary: "List API keys (never their secrets)",
    auth: "admin",
    answers: { 200: { description: "The keys.", json: Answers.ApiKeyList } },
    errors: [401, 503],
  },
  {
    method: "patch",
    path: "/admin/keys/:id",
    operationId: "updateKey",
    tag: "Admin",
    summary: "Change a key's limits (`null` clears one)",
    auth: "admin",
    params: { id: KEY_ID },
    body: { named: Requests.UpdateKeyRequest, required: true },
    answers: { 200: { description: "The key, with what it spent and holds.", json: Answers.UpdatedApiKey } },
    errors: [400, 401, 404, 413, 415, 503],
  },
  {
    method: "delete",
    path: "/admin/keys/:id",
    operationId: "revokeKey",
    tag: "Admin",
    summary: "Revoke a key",
    auth: "admin",
    params: { id: KEY_ID },
    answers: { 200: { description: "The key is revoked.", json: Answers.DeletedApiKey } },
    errors: [401, 404, 503],
  },
  {
    method: "get",
    path: "/admin/usage",
    operationId: "adminUsage",
    tag: "Admin",
    summary: "Every key's usage and cost, and what nodes are owed",
    auth: "admin",
    query: usageQuery(UsageGroupingSchema.options, "default: key"),
    answers: { 200: { description: "The grouped report.", json: Answers.GroupedUsage, csv: true } },
    errors: [400, 401, 503],
  },
  {
    method: "get",
    path: "/admin/nodes",
    operationId: "listAdminNodes",
    tag: "Admin",
    summary: "Every node, with its health probe and routing state",
    auth: "admin",
    answers: { 200: { description: "The nodes.", json: Answers.AdminNodeList } },
    errors: [401, 503],
  },
  {
    method: "post",
    path: "/admin/nodes/:id/ban",
    operationId: "banNode",
    tag: "Admin",
    summary: "Ban a node (at once; its session is closed)",
    auth: "admin",
    params: { id: NODE_ID },
    body: { named: Requests.BanRequest, required: false },
    answers: { 200: { description: "The node is banned.", json: Answers.NodeBan } },
    errors: [400, 401, 404, 413, 503],
  },
  {
    method: "post",
    path: "/admin/nodes/:id/unban",
    operationId: "unbanNode",
    tag: "Admin",
    summary: "Lift a node's ban",
    auth: "admin",
    params: { id: NODE_ID },
    answers: { 200: { description: "The node is no longer banned.", json: Answers.NodeBan } },
    errors: [401, 404, 503],
  },
  {
    method: "post",
    path: "/admin/settlements",
    operationId: "closeSettlement",
    tag: "Admin",
    summary: "Close a period: the signed statement of what each node is owed",
    description: `\`from\` and \`to\`: ${INSTANT} The period must be at least an hour, and over by \`SETTLEMENT_DELAY_MS\`.`,
    auth: "admin",
    body: { named: Requests.SettlementPeriod, required: true },
    answers: { 201: { description: "The statement.", json: Answers.Settlement } },
    errors: [400, 401, 409, 413, 415, 503],
  },
  {
    method: "post",
    path: "/admin/settlements/:id/abort",
    operationId: "abortSettlement",
    tag: "Admin",
    summary: "Release a close that failed part way",
    auth: "admin",
    params: { id: SETTLEMENT_ID },
    answers: { 200: { description: "The period is open again.", json: Answers.SettlementAbort } },
    errors: [401, 404, 409, 503],
  },
];

export const OPERATIONS: readonly Operation[] = [
  ...INFERENCE,
  ...CLIENT,
  ...SETTLEMENTS,
  ...NODES,
  ...GATEWAY,
  ...ADMIN,
];
