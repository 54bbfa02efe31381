import { describe, expect, it } from "vitest";
import { NO_CONTROLS, type RoutingControls } from "./client-controls.js";
import type { Outcome } from "./outcome.js";
import { ORDINARY_PROMPT_TOKENS } from "./prefill.js";
import {
  addTimeoutEvidence,
  chargedTimeouts,
  chosenByClient,
  MAX_TIMEOUT_EVIDENCE,
  TIMEOUT_EVIDENCE_WINDOW_MS,
  timeoutClients,
  timeoutsEject,
  type HeldTimeout,
} from "./timeout-evidence.js";

const controls = (extra: Partial<RoutingControls> = {}): RoutingControls => ({ ...NO_CONTROLS("m"), ...extra });

function held(nodeId: string, extra: Partial<Outcome> = {}, byClient = false): HeldTimeout {
  const outcome: Outcome = {
    nodeId,
    model: "m",
    kind: "timeout",
    at: 0,
    ttftMs: 10_000,
    tokens: null,
    streamMs: null,
    inFlight: 0,
    promptTokens: 500,
    client: "k",
    ...extra,
  };
  return { outcome, chosenByClient: byClient };
}

describe("chosenByClient", () => {
  it("is false for the gateway's own choice, and for a fallback past the client's order", () => {
    expect(chosenByClient(controls(), "a")).toBe(false);
    expect(chosenByClient(controls({ order: ["b"] }), "a")).toBe(false);
  });

  it("is true for a node the client named first, or any choice it narrowed to a few it can predict", () => {
    expect(chosenByClient(controls({ order: ["a"] }), "a")).toBe(true);
    expect(chosenByClient(controls({ only: new Set(["a", "b"]) }), "a")).toBe(true);
    expect(chosenByClient(controls({ ignore: new Set(["b"]) }), "a")).toBe(true);
    expect(chosenByClient(controls({ sort: "latency" }), "a")).toBe(true);
    expect(chosenByClient(controls({ maxPrice: { prompt: 1, completion: null } }), "a")).toBe(true);
  });
});

describe("chargedTimeouts", () => {
  it("charges a timeout the gateway routed, on an ordinary prompt, once another node answered the same model", () => {
    const h = held("a");
    expect(chargedTimeouts([h], "m")).toEqual([h.outcome]);
  });

  it("charges nothing when nobody answered: the request may be what no node can serve in time", () => {
    expect(chargedTimeouts([held("a")], null)).toEqual([]);
  });

  it("charges neither node when the request timed out on two (it is the request's fault)", () => {
    expect(chargedTimeouts([held("a"), held("b")], "m")).toEqual([]);
  });

  it("charges nothing for a node the client chose", () => {
    expect(chargedTimeouts([held("a", {}, true)], "m")).toEqual([]);
  });

  it("charges nothing for a long prompt: its prefill is slow anywhere", () => {
    expect(chargedTimeouts([held("a", { promptTokens: ORDINARY_PROMPT_TOKENS + 1 })], "m")).toEqual([]);
    expect(chargedTimeouts([held("a", { promptTokens: ORDINARY_PROMPT_TOKENS })], "m")).toHaveLength(1);
  });

  it("charges nothing when only a fallback model's node answered", () => {
    expect(chargedTimeouts([held("a")], "other-model")).toEqual([]);
  });
});

describe("timeout evidence", () => {
  it("keeps one entry per client, the newest", () => {
    const list = addTimeoutEvidence(addTimeoutEvidence([], "k1", 0), "k1", 5);
    expect(list).toEqual([{ client: "k1", at: 5 }]);
    expect(timeoutClients(list, 5)).toBe(1);
    expect(timeoutsEject(list, 5)).toBe(false);
  });

  it("ejects with two clients within the window, not once the older has aged out", () => {
    const list = addTimeoutEvidence(addTimeoutEvidence([], "k1", 0), "k2", 10);
    expect(timeoutsEject(list, 10)).toBe(true);
    expect(timeoutsEject(list, TIMEOUT_EVIDENCE_WINDOW_MS)).toBe(false);
    expect(addTimeoutEvidence(list, "k3", TIMEOUT_EVIDENCE_WINDOW_MS + 5)).toEqual([
      { client: "k2", at: 10 },
      { client: "k3", at: TIMEOUT_EVIDENCE_WINDOW_MS + 5 },
    ]);
  });

  it(`holds at most ${MAX_TIMEOUT_EVIDENCE} entries, whatever the traffic`, () => {
    let list = addTimeoutEvidence([], "k0", 0);
    for (let i = 1; i < 100; i++) list = addTimeoutEvidence(list, `k${i}`, i);
    expect(list).toHaveLength(MAX_TIMEOUT_EVIDENCE);
    expect(list.at(-1)).toEqual({ client: "k99", at: 99 });
  });
});
