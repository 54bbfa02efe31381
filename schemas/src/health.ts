// Reachability probes: the gateway POSTs a signed, node-addressed request to this path and the node answers with its
// current load. Signed like a dispatch, so nobody but the gateway can make a node answer (or time) one.
import { z } from "zod";
import { NodeIdSchema } from "./heartbeat.js";

export const HEALTH_PATH = "/meshgate/health";

export const HealthAnswerSchema = z.object({
  object: z.literal("node.health"),
  /** The node the probe was addressed to; the gateway refuses an answer for anyone else. */
  node_id: NodeIdSchema,
  /** Requests the node is serving, not counting the probe itself. */
  in_flight: z.int().min(0).max(1_000_000),
  capacity: z.int().min(1).max(100_000),
});
export type HealthAnswer = z.infer<typeof HealthAnswerSchema>;
