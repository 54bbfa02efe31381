// The schemas the description names (its components/schemas): the very zod schemas the routes validate requests with,
// the ones their answers are typed by, and a few for answers only this description needs (lists, nodes' answers).
import {
  AdminNodeSchema,
  ApiKeySchema,
  BanSchema,
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  CreatedApiKeySchema,
  CreateKeySchema,
  DeletedApiKeySchema,
  EmbeddingRequestSchema,
  GatewayMetadataSchema,
  HeartbeatAckSchema,
  HeartbeatSchema,
  KeyRotationAckSchema,
  KeyRotationRequestSchema,
  MeshStatusSchema,
  ModelObjectSchema,
  NodeBanSchema,
  OpenAIErrorBodySchema,
  PublicNodeSchema,
  ResponsesRequestSchema,
  RootInfoSchema,
  SettlementAbortSchema,
  SettlementListSchema,
  SettlementProofSchema,
  SettlementStatementSchema,
  UpdatedApiKeySchema,
  UpdateKeySchema,
  UsageGroupReportSchema,
  UsageReportSchema,
  UsageRowSchema,
  UsageTotalsSchema,
} from "@meshgate/schemas";
import { z } from "zod";
import { PeriodBodySchema } from "../billing/period.js";
import { ChatCompletionSchema, CompletionSchema, EmbeddingListSchema, ResponseSchema } from "./node-answers.js";

/** A schema and the name it has in components/schemas. */
export interface Named {
  id: string;
  schema: z.ZodType;
}

const named = (id: string, schema: z.ZodType): Named => ({ id, schema });
const listOf = (item: z.ZodType) => z.object({ object: z.literal("list"), data: z.array(item) });

/** Request bodies, described as zod reads them (io "input"). */
export const Requests = {
  ChatCompletionRequest: named("ChatCompletionRequest", ChatCompletionRequestSchema),
  CompletionRequest: named("CompletionRequest", CompletionRequestSchema),
  EmbeddingRequest: named("EmbeddingRequest", EmbeddingRequestSchema),
  ResponsesRequest: named("ResponsesRequest", ResponsesRequestSchema),
  Heartbeat: named("Heartbeat", HeartbeatSchema),
  KeyRotationRequest: named("KeyRotationRequest", KeyRotationRequestSchema),
  CreateKeyRequest: named("CreateKeyRequest", CreateKeySchema),
  UpdateKeyRequest: named("UpdateKeyRequest", UpdateKeySchema),
  BanRequest: named("BanRequest", BanSchema),
  SettlementPeriod: named("SettlementPeriod", PeriodBodySchema),
} as const;

/** Answers, described as the gateway writes them (io "output"). */
export const Answers = {
  Error: named("Error", OpenAIErrorBodySchema),
  RootInfo: named("RootInfo", RootInfoSchema),
  OpenApiDocument: named("OpenApiDocument", z.looseObject({ openapi: z.string(), info: z.looseObject({}) })),
  ChatCompletion: named("ChatCompletion", ChatCompletionSchema),
  Completion: named("Completion", CompletionSchema),
  EmbeddingList: named("EmbeddingList", EmbeddingListSchema),
  Response: named("Response", ResponseSchema),
  MeshStatus: named("MeshStatus", MeshStatusSchema),
  Model: named("Model", ModelObjectSchema),
  ModelList: named("ModelList", listOf(ModelObjectSchema)),
  Usage: named("Usage", z.union([UsageReportSchema, UsageGroupReportSchema])),
  GroupedUsage: named("GroupedUsage", UsageGroupReportSchema),
  SettlementList: named("SettlementList", SettlementListSchema),
  Settlement: named("Settlement", SettlementStatementSchema),
  SettlementProof: named("SettlementProof", SettlementProofSchema),
  SettlementAbort: named("SettlementAbort", SettlementAbortSchema),
  NodeList: named("NodeList", listOf(PublicNodeSchema)),
  HeartbeatAck: named("HeartbeatAck", HeartbeatAckSchema),
  KeyRotationAck: named("KeyRotationAck", KeyRotationAckSchema),
  GatewayMetadata: named("GatewayMetadata", GatewayMetadataSchema),
  CreatedApiKey: named("CreatedApiKey", CreatedApiKeySchema),
  ApiKeyList: named("ApiKeyList", listOf(ApiKeySchema)),
  UpdatedApiKey: named("UpdatedApiKey", UpdatedApiKeySchema),
  DeletedApiKey: named("DeletedApiKey", DeletedApiKeySchema),
  AdminNodeList: named("AdminNodeList", listOf(AdminNodeSchema)),
  NodeBan: named("NodeBan", NodeBanSchema),
} as const;

/** Schemas inside answers that several of them share: named too, so the answers refer to them. */
export const SHARED: readonly Named[] = [
  named("UsageReport", UsageReportSchema),
  named("UsageRow", UsageRowSchema),
  named("UsageTotals", UsageTotalsSchema),
  named("PublicNode", PublicNodeSchema),
  named("ApiKey", ApiKeySchema),
];
