// Fetches what `verify-settlement` checks from the gateway: its published keys, the signed statement, and this
// node's leaves with their proofs. Any failure to get them is a GatewayFetchError (not a mismatch).
import {
  SettlementProofSchema,
  SettlementStatementSchema,
  type GatewayKey,
  type SettlementProof,
  type SettlementStatement,
} from "@meshgate/schemas";
import type { z } from "zod";
import { readErrorResponse } from "../gateway/error-response.js";
import { fetchGatewayMetadata } from "../gateway/gateway-metadata.js";
import { errorMessage } from "../log.js";
import { count } from "./findings.js";

const FETCH_TIMEOUT_MS = 30_000;

export class GatewayFetchError extends Error {}

export interface FetchedSettlement {
  keys: GatewayKey[];
  statement: SettlementStatement;
  /** Every page's leaves in one; null when the gateway says the node has no leaves in the settlement. */
  proof: SettlementProof | null;
}

export async function getJson<T>(url: URL, schema: z.ZodType<T>, what: string): Promise<T>;
/** Null when the gateway answers 404 with `absentCode`. */
export async function getJson<T>(url: URL, schema: z.ZodType<T>, what: string, absentCode: string): Promise<T | null>;
export async function getJson<T>(url: URL, schema: z.ZodType<T>, what: string, absentCode?: string): Promise<T | null> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (err) {
    throw new GatewayFetchError(`could not fetch ${what}: ${errorMessage(err)}`);
  }
  if (!res.ok) {
    const refusal = await readErrorResponse(res);
    if (absentCode !== undefined && res.status === 404 && refusal.code === absentCode) return null;
    throw new GatewayFetchError(`the gateway refused ${what}: ${refusal.description}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new GatewayFetchError(`${what} is not JSON`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new GatewayFetchError(`${what} is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

/** The gateway's published keys, which sign its statements. */
export async function fetchGatewayKeys(gatewayUrl: string): Promise<GatewayKey[]> {
  try {
    return (await fetchGatewayMetadata(gatewayUrl)).keys;
  } catch (err) {
    throw new GatewayFetchError(`could not fetch the gateway's keys: ${errorMessage(err)}`);
  }
}

export async function fetchSettlement(gatewayUrl: string, id: string, nodeId: string): Promise<FetchedSettlement> {
  const keys = await fetchGatewayKeys(gatewayUrl);
  const statement = await getJson(new URL(statementUrl(gatewayUrl, id)), SettlementStatementSchema, `settlement ${id}`);
  // Asked under the id asked for: a gateway that answers with another statement is caught by the caller.
  return { keys, statement, proof: await fetchStatementProof(gatewayUrl, statement, nodeId, id) };
}

const statementUrl = (gatewayUrl: string, id: string): string =>
  `${gatewayUrl}/v1/settlements/${encodeURIComponent(id)}`;

/**
 * This node's leaves in `statement` (asked for under `id`), every page; null when the gateway says the node has none in
 * it.
 */
export function fetchStatementProof(
  gatewayUrl: string,
  statement: SettlementStatement,
  nodeId: string,
  id = statement.id,
): Promise<SettlementProof | null> {
  const receipts = statement.nodes.find((n) => n.node_id === nodeId)?.receipts ?? 0;
  return fetchProof(statementUrl(gatewayUrl, id), id, nodeId, receipts);
}

/**
 * Follows the proof's pages; they must all describe the same statement and node. `receipts`, the statement's count
 * for the node, bounds them: a gateway that says there is more once that many leaves came would page on forever.
 */
async function fetchProof(base: string, id: string, nodeId: string, receipts: number): Promise<SettlementProof | null> {
  let first: SettlementProof | null = null;
  const leaves: SettlementProof["leaves"] = [];
  for (let page = 0; ; page++) {
    const url = new URL(`${base}/proof?node=${encodeURIComponent(nodeId)}&page=${page}`);
    const got = await getJson(
      url,
      SettlementProofSchema,
      `page ${page} of this node's proof in settlement ${id}`,
      "node_not_in_settlement",
    );
    if (!got) return null;
    first ??= got;
    const agrees =
      got.page === page &&
      got.settlement_id === first.settlement_id &&
      got.merkle_root === first.merkle_root &&
      JSON.stringify(got.node) === JSON.stringify(first.node);
    if (!agrees)
      throw new GatewayFetchError(`page ${page} of this node's proof in settlement ${id} does not continue page 0`);
    leaves.push(...got.leaves);
    // A page without leaves that claims more would never end.
    if (!got.has_more || got.leaves.length === 0) return { ...first, leaves, page: 0, has_more: false };
    if (leaves.length > receipts)
      throw new GatewayFetchError(
        `page ${page} of this node's proof in settlement ${id} brings more than the statement's ${count(receipts, "receipt")} of this node`,
      );
  }
}
