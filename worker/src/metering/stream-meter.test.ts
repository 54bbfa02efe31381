import { RECEIPT_COMMENT_PREFIX } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { StreamMeter } from "./stream-meter.js";

const enc = new TextEncoder();
const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const parts = [
  event({ choices: [{ index: 0, delta: { content: "Hel" } }] }),
  event({ choices: [{ index: 0, delta: { content: "lo" } }] }) + event({ choices: [], usage }) + "data: [DONE]\n\n",
  `${RECEIPT_COMMENT_PREFIX}token\n\n`,
];

async function run(relay: boolean | undefined) {
  const meter = new StreamMeter({ hideUsage: false, choices: 1, ...(relay === undefined ? {} : { relay }) });
  const sent = parts.map((p) => meter.chunk(enc.encode(p)));
  sent.push(meter.end());
  return { meter, sent, digest: await meter.finishDigest() };
}

describe("StreamMeter", () => {
  it("meters alike whether or not it relays; without relaying it hands back no bytes", async () => {
    const relayed = await run(undefined);
    const kept = await run(false);
    expect(relayed.sent.filter((b) => b !== null).length).toBeGreaterThan(0);
    expect(kept.sent).toEqual([null, null, null, null]);
    for (const { meter } of [relayed, kept]) {
      expect(meter.usage).toEqual(usage);
      expect(meter.receipt).toBe("token");
      expect(meter.completed).toBe(true);
      expect(meter.relayed.textBytes).toBe(5);
      expect(meter.progress).toBe(3);
    }
    expect(kept.digest).toBe(relayed.digest);
  });
});
