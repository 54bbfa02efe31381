// The gateway's public node list as a client sees it, and waiting for a node to appear in it.
import type { PublicNode } from "@meshgate/schemas";
import { pollUntil } from "../processes/index.js";

export async function listNodes(gatewayUrl: string): Promise<PublicNode[]> {
  const response = await fetch(`${gatewayUrl}/v1/nodes`);
  if (!response.ok) throw new Error(`GET /v1/nodes answered ${response.status}`);
  return ((await response.json()) as { data: PublicNode[] }).data;
}

/** Resolves with the node once the gateway lists it as live (it has heartbeated). */
export function waitForNode(gatewayUrl: string, nodeId: string, timeoutMs = 30_000): Promise<PublicNode> {
  return pollUntil(async () => (await listNodes(gatewayUrl)).find((n) => n.id === nodeId), {
    what: `node ${nodeId} to be listed by ${gatewayUrl}/v1/nodes`,
    timeoutMs,
  });
}
