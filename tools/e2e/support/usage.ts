// GET /v1/usage for a key, waiting until the ledger holds the expected number of requests: usage is written ahead in
// an admission cell with each answer's release and reaches the key's account with the cell's next flush (USAGE_FLUSH_MS,
// 1 s by default).
import type { UsageReport } from "@meshgate/schemas";
import { pollUntil } from "../../processes/index.js";

export async function fetchUsage(gatewayUrl: string, apiKey: string): Promise<UsageReport> {
  const response = await fetch(`${gatewayUrl}/v1/usage`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) throw new Error(`GET /v1/usage answered ${response.status}`);
  return (await response.json()) as UsageReport;
}

export function usageOnceRecorded(
  gatewayUrl: string,
  apiKey: string,
  requests: number,
  timeoutMs = 15_000,
): Promise<UsageReport> {
  return pollUntil(
    async () => {
      const report = await fetchUsage(gatewayUrl, apiKey);
      return report.totals.requests >= requests ? report : undefined;
    },
    { what: `${requests} requests in the usage ledger`, timeoutMs },
  );
}
