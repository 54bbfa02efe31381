// A client that hangs up in the middle of a stream (`curl ... | head`) must not cost the node a slot for good, and
// the request must still be metered: the gateway reads the rest of the node's answer without the client, so the
// answer's usage and receipt arrive and it is billed like any other (leaving early does not make it free).
// With --capacity 2, two disconnects that kept their slots would leave the node "at capacity" (503 no_capacity).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_MODEL, startCluster, TRANSPORTS, type Cluster } from "./support/cluster.js";
import { postThenHangUp } from "./support/hang-up.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { usageOnceRecorded } from "./support/usage.js";

const CAPACITY = 2;
const DISCONNECTS = 4;

/** Sends a streamed chat request over a raw socket and closes it as soon as the first bytes of the answer arrive. */
function requestThenHangUp(gatewayUrl: string, apiKey: string): Promise<string> {
  const body = {
    model: CHAT_MODEL,
    stream: true,
    messages: [{ role: "user", content: "one two three four five six" }],
  };
  return postThenHangUp(gatewayUrl, apiKey, "/v1/chat/completions", body).then((answer) => answer.status);
}

describe.each(TRANSPORTS)("clients that hang up mid-stream (%s)", E2E, (transport) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      agents: 1,
      name: `disconnect-${transport}`,
      capacity: CAPACITY,
      session: transport === "session",
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("release the node and are metered", async () => {
    for (let i = 0; i < DISCONNECTS; i++) {
      expect(await requestThenHangUp(cluster.gateway.url, cluster.apiKey)).toBe("HTTP/1.1 200 OK");
      // Recorded once the rest of the node's answer was read, which is also when the node's slot is given back.
      await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, i + 1);
    }
    // More disconnects than the node has slots: had any kept its slot, this would be refused with 503.
    const reply = await cluster.client.chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: "user", content: "still there?" }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    const report = await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, DISCONNECTS + 1);
    expect(report.totals.requests).toBe(DISCONNECTS + 1);
    for (const row of report.data) expect(row).toMatchObject({ status: 200, billable: true, receipt_status: "ok" });
  });
});
