// Learns the gateway's signing key from GET /.well-known/meshgate.json, waiting for the gateway if it is not up yet.
import { GatewayMetadataSchema, type GatewayMetadata } from "@meshgate/schemas";
import { errorMessage, type Logger } from "../log.js";
import { retryUntilOk } from "../retry.js";
import { describeErrorResponse } from "./error-response.js";

export const METADATA_PATH = "/.well-known/meshgate.json";
const FETCH_TIMEOUT_MS = 10_000;

export async function fetchGatewayMetadata(gatewayUrl: string): Promise<GatewayMetadata> {
  const res = await fetch(new URL(METADATA_PATH, gatewayUrl), { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`gateway answered ${await describeErrorResponse(res)}`);
  const parsed = GatewayMetadataSchema.safeParse(await res.json());
  if (!parsed.success)
    throw new Error(`gateway metadata is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

export function waitForGatewayMetadata(
  gatewayUrl: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<GatewayMetadata> {
  return retryUntilOk(() => fetchGatewayMetadata(gatewayUrl), {
    signal,
    onRetry: (err, attempt, delayMs) =>
      log("gateway not ready, retrying", {
        gateway: gatewayUrl,
        attempt,
        retry_in_ms: delayMs,
        error: errorMessage(err),
      }),
  });
}
