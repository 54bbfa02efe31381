// A stand-in for the gateway's settlement routes: builds statements and proofs exactly as the gateway does (each
// node's receipts form a subtree; the top tree is over the subtree roots; a receipt's proof is its subtree proof
// followed by its subtree root's proof) and serves them with its published key, and lists them as the gateway does
// (GET /v1/settlements?limit=&after=, newest first).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  decodeReceipt,
  jwkThumbprint,
  MerkleTree,
  newSeed,
  nodeAmount,
  publicJwk,
  receiptLeaf,
  settlementStatementBytes,
  toBase64Url,
  toHex,
  webCryptoSignerFromSeed,
  type GatewayMetadata,
  type SettlementLeaf,
  type SettlementNode,
  type SettlementProof,
  type SettlementStatement,
  type SignedReceipt,
  type Signer,
  type UnsignedStatement,
} from "@meshgate/schemas";

export interface Settlement {
  statement: SettlementStatement;
  /** By node id, every leaf in one (the server pages them). */
  proofs: Map<string, SettlementProof>;
}

export interface SettlementSpec {
  id: string;
  from: number;
  to: number;
  /** When it was closed; a second after `to` unless given. */
  created?: number;
  /** Receipts in wire form, of any nodes. */
  receipts: readonly string[];
}

interface NodeTree {
  node: SettlementNode;
  tree: MerkleTree;
  leaves: { receipt: string; leaf: Uint8Array; amount: number }[];
}

function nodeTrees(receipts: readonly string[]): NodeTree[] {
  const byNode = new Map<string, { token: string; signed: SignedReceipt }[]>();
  for (const token of receipts) {
    const signed = decodeReceipt(token);
    if (!signed) throw new Error("not a receipt");
    byNode.set(signed.receipt.node_id, [...(byNode.get(signed.receipt.node_id) ?? []), { token, signed }]);
  }
  return [...byNode.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([nodeId, signed]) => {
      const leaves = signed.map(({ token, signed: { receipt, bytes } }) => ({
        receipt: token,
        leaf: receiptLeaf(bytes),
        amount: nodeAmount(receipt, receipt.price),
        r: receipt,
      }));
      const tree = new MerkleTree(leaves.map((l) => l.leaf));
      const sum = (pick: (l: (typeof leaves)[number]) => number): number => leaves.reduce((t, l) => t + pick(l), 0);
      const node = {
        node_id: nodeId,
        receipts: leaves.length,
        prompt_tokens: sum((l) => l.r.prompt_tokens),
        completion_tokens: sum((l) => l.r.completion_tokens),
        amount: sum((l) => l.amount),
        root: toHex(tree.root),
      };
      return { node, tree, leaves };
    });
}

export async function signStatement(unsigned: UnsignedStatement, signer: Signer): Promise<SettlementStatement> {
  return { ...unsigned, signature: toBase64Url(await signer.sign(settlementStatementBytes(unsigned))) };
}

export async function buildSettlement(spec: SettlementSpec, signer: Signer): Promise<Settlement> {
  const nodes = nodeTrees(spec.receipts);
  const top = new MerkleTree(nodes.map((n) => n.tree.root));
  const unsigned: UnsignedStatement = {
    object: "settlement",
    id: spec.id,
    from: spec.from,
    to: spec.to,
    created: spec.created ?? spec.to + 1_000,
    receipts: nodes.reduce((t, n) => t + n.node.receipts, 0),
    amount: nodes.reduce((t, n) => t + n.node.amount, 0),
    merkle_root: toHex(top.root),
    nodes: nodes.map((n) => n.node),
    key_id: signer.keyId,
  };
  const proofs = new Map<string, SettlementProof>();
  for (const { node, tree, leaves } of nodes) {
    const upper = top.proof(tree.root) ?? [];
    const proofLeaves: SettlementLeaf[] = leaves.map((l) => ({
      receipt: l.receipt,
      leaf: toHex(l.leaf),
      proof: [...(tree.proof(l.leaf) ?? []), ...upper].map(toHex),
      amount: l.amount,
    }));
    proofs.set(node.node_id, {
      object: "settlement.proof",
      settlement_id: spec.id,
      merkle_root: unsigned.merkle_root,
      node: { ...node },
      leaves: proofLeaves,
      page: 0,
      has_more: false,
    });
  }
  return { statement: await signStatement(unsigned, signer), proofs };
}

export interface SettlementGateway {
  url: string;
  signer: Signer;
  /** Serves `settlement` under `id` (by default its own). */
  publish(settlement: Settlement, id?: string): void;
  close(): Promise<void>;
}

/**
 * A page of statements newest first (by `created`, then id), after the one named `after`; null for an unknown `after`.
 */
function listPage(
  statements: SettlementStatement[],
  params: URLSearchParams,
): { object: "list"; data: SettlementStatement[]; has_more: boolean } | null {
  const sorted = statements.sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const after = params.get("after");
  const start = after === null ? 0 : sorted.findIndex((s) => s.id === after) + 1;
  if (start === 0 && after !== null) return null;
  const limit = Number(params.get("limit") ?? 20);
  return { object: "list", data: sorted.slice(start, start + limit), has_more: start + limit < sorted.length };
}

/** `pageSize`: leaves per proof page (the gateway's is 1,024). */
export async function startSettlementGateway(pageSize = 1_024): Promise<SettlementGateway> {
  const { signer, publicKey } = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  const published = new Map<string, Settlement>();
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void =>
      void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    const notFound = (code: string): void =>
      send(404, { error: { message: "Not found.", type: "not_found_error", param: null, code } });
    const url = new URL(req.url ?? "/", "http://gateway");
    if (url.pathname === "/.well-known/meshgate.json") {
      const metadata: GatewayMetadata = {
        issuer: "meshgate",
        keys: [{ kid: signer.keyId, alg: "ed25519", jwk: publicJwk(publicKey), status: "current", not_after: null }],
        heartbeat_path: "/v1/nodes/heartbeat",
        heartbeat_interval_ms: 2_000,
        node_ttl_ms: 10_000,
      };
      return send(200, metadata);
    }
    if (url.pathname === "/v1/settlements") {
      const page = listPage(
        [...published].filter(([id, s]) => id === s.statement.id).map(([, s]) => s.statement),
        url.searchParams,
      );
      return page
        ? send(200, page)
        : send(400, {
            error: { message: "Invalid after.", type: "invalid_request_error", param: "after", code: "invalid_value" },
          });
    }
    const match = /^\/v1\/settlements\/([^/]+)(\/proof)?$/.exec(url.pathname);
    const settlement = match ? published.get(decodeURIComponent(match[1]!)) : undefined;
    if (!settlement) return notFound("settlement_not_found");
    if (!match?.[2]) return send(200, settlement.statement);
    const proof = settlement.proofs.get(url.searchParams.get("node") ?? "");
    if (!proof) return notFound("node_not_in_settlement");
    const page = Number(url.searchParams.get("page") ?? 0);
    const leaves = proof.leaves.slice(page * pageSize, (page + 1) * pageSize);
    return send(200, { ...proof, leaves, page, has_more: (page + 1) * pageSize < proof.leaves.length });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    signer,
    publish: (settlement, id = settlement.statement.id) => void published.set(id, settlement),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
