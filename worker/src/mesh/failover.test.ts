// The route's side of timeout evidence: a timeout is reported only once another node answered the same request, and
// a second timeout ends the request without charging either node.
import { describe, expect, it } from "vitest";
import {
  buildTable,
  NO_CONTROLS,
  newNodeState,
  pickNode,
  type Outcome,
  type RouteNode,
  type RoutingControls,
} from "../routing/index.js";
import type { AttemptResult } from "./dispatch.js";
import { MAX_ATTEMPTS_PER_MODEL, routeRequest } from "./failover.js";

function node(id: string): RouteNode {
  return {
    id,
    origin: `https://${id}.example`,
    transport: "direct",
    declaredCapacity: 8,
    othersInFlight: 0,
    models: new Map([["m", null]]),
    contextLengths: new Map(),
    responsesApi: new Set(),
    state: newNodeState(0),
    probe: null,
  };
}

const TIMEOUT: AttemptResult = {
  kind: "failed",
  outcome: "timeout",
  status: null,
  ttftMs: 10_000,
  reason: "no first token",
};
const ERROR: AttemptResult = { kind: "failed", outcome: "error", status: 500, ttftMs: 5, reason: "500" };
const ANSWER: AttemptResult = {
  kind: "answer",
  response: new Response("{}"),
  content: { form: "whole", bytes: new Uint8Array(2), value: {} },
  ttftMs: 50,
  outcome: "success",
};

/**
 * Routes over nodes a, b, c, d, each pick granting a numbered slot; `answers` says what each attempt gets, in order.
 * `reported`: every outcome the router learns, whether given back with its slot or judged at the end.
 */
async function route(answers: AttemptResult[], controls: Partial<RoutingControls> = {}) {
  const table = buildTable(["a", "b", "c", "d"].map(node), 0);
  const all = { ...NO_CONTROLS("m"), ...controls };
  const reported: Outcome[] = [];
  const sent: string[] = [];
  const granted: number[] = [];
  const released: number[] = [];
  const result = await routeRequest<number>({
    pick: async (model, exclude, attempt) => {
      const picked = pickNode(table, {
        model,
        controls: all,
        now: 0,
        random: () => 0.5,
        load: () => 0,
        exclude,
        attempt,
      });
      if (picked.kind !== "node") return picked;
      granted.push(granted.length);
      return { kind: "node", node: picked.node, grant: granted.length - 1 };
    },
    controls: all,
    now: () => 0,
    client: "key-1",
    promptTokens: 300,
    onFailure: (o) => reported.push(o),
    release: (grant, o) => {
      released.push(grant);
      if (o) reported.push(o);
    },
    send: async (n) => {
      sent.push(n.id);
      return answers[sent.length - 1] ?? ANSWER;
    },
  });
  return { result, reported, sent, granted, released };
}

describe("routeRequest and timeouts", () => {
  it("reports a timeout once another node answered, with who asked and the prompt's size", async () => {
    const { result, reported, sent } = await route([TIMEOUT, ANSWER]);
    expect(result.ok).toBe(true);
    expect(reported).toEqual([
      expect.objectContaining({ nodeId: sent[0], kind: "timeout", client: "key-1", promptTokens: 300 }),
    ]);
  });

  it("stops after a second timeout and reports neither", async () => {
    const { result, reported, sent } = await route([TIMEOUT, TIMEOUT, ANSWER]);
    expect(result).toMatchObject({ ok: false, reason: "failed" });
    expect(sent).toHaveLength(2);
    expect(reported).toEqual([]);
  });

  it("reports other failures at once, and goes on past them as before", async () => {
    const { result, reported, sent } = await route([ERROR, TIMEOUT, ERROR]);
    expect(result.ok).toBe(false);
    expect(sent).toHaveLength(MAX_ATTEMPTS_PER_MODEL);
    // The timeout is not reported: nobody answered.
    expect(reported.map((o) => o.kind)).toEqual(["error", "error"]);
  });

  it("does not report a timeout on the node the client put first", async () => {
    const { result, reported, sent } = await route([TIMEOUT, ANSWER], { order: ["c"] });
    expect(result.ok).toBe(true);
    expect(sent[0]).toBe("c");
    expect(reported).toEqual([]);
  });
});

describe("routeRequest and the slots its picks grant", () => {
  it("gives back every slot but the answering one's, once each, and keeps that one with the answer", async () => {
    const { result, granted, released } = await route([ERROR, TIMEOUT, { kind: "absent" }, ANSWER]);
    expect(result).toMatchObject({ ok: true, grant: 3 });
    expect(granted).toEqual([0, 1, 2, 3]);
    expect(released).toEqual([0, 1, 2]);
  });

  it("gives back every slot when no node answers", async () => {
    const { result, granted, released } = await route([ERROR, ERROR, ERROR]);
    expect(result.ok).toBe(false);
    expect(released).toEqual(granted);
  });

  it("gives back the slot when sending throws", async () => {
    const table = buildTable([node("a")], 0);
    const released: string[] = [];
    await expect(
      routeRequest<string>({
        pick: async (model, exclude, attempt) => {
          const picked = pickNode(table, {
            model,
            controls: NO_CONTROLS("m"),
            now: 0,
            random: () => 0.5,
            load: () => 0,
            exclude,
            attempt,
          });
          return picked.kind === "node" ? { kind: "node", node: picked.node, grant: "slot-a" } : picked;
        },
        controls: NO_CONTROLS("m"),
        now: () => 0,
        client: "key-1",
        promptTokens: 1,
        onFailure: () => {},
        release: (grant) => released.push(grant),
        send: async () => {
          throw new Error("boom");
        },
      }),
    ).rejects.toThrow("boom");
    expect(released).toEqual(["slot-a"]);
  });
});

describe("routeRequest and nodes whose session says they are not there", () => {
  const ABSENT: AttemptResult = { kind: "absent" };

  it("tries another node, charging the absent one nothing and counting no attempt", async () => {
    const { result, reported, sent } = await route([ABSENT, ANSWER]);
    expect(result).toMatchObject({ ok: true, node: { id: sent[1] } });
    expect(sent).toHaveLength(2);
    expect(reported).toEqual([]);
    if (result.ok) expect(result.attempts.map((a) => a.nodeId)).toEqual([sent[1]]);
  });

  it("does not use up the request's attempts: every present node is still tried", async () => {
    const { result, sent } = await route([ABSENT, ERROR, ERROR, ANSWER]);
    expect(result.ok).toBe(true);
    expect(sent).toHaveLength(4);
  });

  it("answers busy (503 no_capacity's reason) when no node is there, never a failure of theirs", async () => {
    const { result, reported, sent } = await route([ABSENT, ABSENT, ABSENT, ABSENT]);
    expect(sent).toHaveLength(4);
    expect(result).toMatchObject({ ok: false, reason: "saturated" });
    expect(reported).toEqual([]);
  });
});
