import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bodyDigest, nodeAmount, utf8 } from "@meshgate/schemas";
import {
  buildSettlement,
  signStatement,
  startSettlementGateway,
  type Settlement,
  type SettlementGateway,
} from "../../test/settlement-gateway.js";
import { runCli } from "../../test/run-cli.js";
import { writeKeyFile } from "../identity/key-file.js";
import { generateIdentity, nextIdentity, type NodeIdentity } from "../identity/node-identity.js";
import { ReceiptLog } from "../receipts/receipt-log.js";
import { ReceiptSigner, type AnsweredRequest } from "../receipts/receipt-signer.js";
import { UsageError } from "./usage-error.js";
import { verifySettlementCommand } from "./verify-settlement.js";

const FROM = 1_700_000_000_000;
const TO = FROM + 3_600_000;
const PRICE = { prompt: 150_000, completion: 600_000 };
const USAGE = { prompt_tokens: 1_000, completion_tokens: 500 };
const OWED = nodeAmount(USAGE, PRICE);

let dir: string;
let keyFile: string;
let gateway: SettlementGateway;
let identity: NodeIdentity;
/** This node's logged receipts: three in the period, one from the period before (carried over). */
let inPeriod: string[];
let carriedOver: string[];
/** Signed by this node but not in its log (as after a log rotation). */
let unlogged: string[];
/** Another node's receipts, so the top tree has more than this node in it. */
let others: string[];
/** Receipts in this node's name signed by a key that is not its current one: forged, or from before a rotation. */
let forged: string[];
let rotatedOut: string[];
/** A log holding `rotatedOut`, as the node logged it before rotating its key. */
let rotatedLog: string;

/** Signs receipts with the real signing code, at the given times. */
async function sign(
  signer: (now: number) => Pick<ReceiptSigner, "issue">,
  times: readonly number[],
  prefix: string,
): Promise<string[]> {
  const tokens: string[] = [];
  for (const [i, at] of times.entries()) {
    const token = await signer(at).issue({
      requestId: `${prefix}_${i + 1}`,
      model: "m",
      usage: USAGE,
      bodyDigest: bodyDigest(utf8(`answer ${i}`)),
      addressee: null,
    });
    if (!token) throw new Error("no receipt");
    tokens.push(token);
  }
  return tokens;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "verify-settlement-"));
  keyFile = join(dir, "node-key.json");
  identity = await generateIdentity();
  await writeKeyFile(keyFile, identity, { force: false });
  const log = await ReceiptLog.open(`${keyFile}.receipts.jsonl`, () => {});
  const prices = new Map([["m", PRICE]]);
  // A signer whose every receipt is delivered, so logged, as the agent logs them.
  const logged = (now: number) => {
    const signer = new ReceiptSigner({ identity: () => identity, prices, now: () => now });
    return {
      issue: async (a: AnsweredRequest) => {
        const token = await signer.issue(a);
        if (token) log.append(token);
        return token;
      },
    };
  };
  carriedOver = await sign(logged, [FROM - 5_000], "req_old");
  inPeriod = await sign(logged, [FROM + 1_000, FROM + 2_000, FROM + 3_000], "req");
  await log.close();
  unlogged = await sign(
    (now) => new ReceiptSigner({ identity: () => identity, prices, now: () => now }),
    [FROM + 4_000],
    "req_unlogged",
  );
  const other = await generateIdentity();
  others = await sign(
    (now) => new ReceiptSigner({ identity: () => other, prices, now: () => now }),
    [FROM + 1_000, FROM + 2_000],
    "req_other",
  );
  const anotherKey = await nextIdentity(identity);
  const signedBy = (who: NodeIdentity) => (now: number) =>
    new ReceiptSigner({ identity: () => who, prices, now: () => now });
  forged = await sign(signedBy(anotherKey), [FROM + 5_000], "req_forged");
  rotatedOut = await sign(signedBy(anotherKey), [FROM + 6_000], "req_rotated");
  rotatedLog = join(dir, "rotated.jsonl");
  const earlierLog = await ReceiptLog.open(rotatedLog, () => {});
  for (const token of rotatedOut) earlierLog.append(token);
  await earlierLog.close();
  // Two leaves a page, so the proofs of this node (up to five leaves) take several pages.
  gateway = await startSettlementGateway(2);
});

afterAll(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the command in this process; returns its exit code and what it printed. */
async function verify(id: string, extra: string[] = []): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await verifySettlementCommand(["--gateway", gateway.url, "--key-file", keyFile, ...extra, id]);
    return { code, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

async function publish(
  id: string,
  receipts: readonly string[],
  tamper?: (s: Settlement) => Promise<void> | void,
): Promise<void> {
  const settlement = await buildSettlement({ id, from: FROM, to: TO, receipts }, gateway.signer);
  await tamper?.(settlement);
  gateway.publish(settlement);
}

/** The unsigned part of this node's entry and the statement, changed and signed again: a consistent, signed lie. */
async function resign(settlement: Settlement, change: (s: Settlement["statement"]) => void): Promise<void> {
  const { signature: _, ...unsigned } = settlement.statement;
  change(unsigned as Settlement["statement"]);
  settlement.statement = await signStatement(unsigned, gateway.signer);
}

describe("node-agent verify-settlement", () => {
  it("matches a settlement that holds every logged receipt, and says what is owed", async () => {
    await publish("stl_ok", [...carriedOver, ...inPeriod, ...others]);
    const { code, out } = await verify("stl_ok");
    expect(out).toContain("info: 1 receipt carried over from an earlier period: req_old_1");
    expect(out).toContain(`MATCHED: 4 receipts, amount owed ${4 * OWED} micro-units.`);
    expect(out).not.toContain("error:");
    expect(code).toBe(0);
  });

  it("runs from the command line and exits 0 on a match", { timeout: 20_000 }, async () => {
    const result = await runCli(["verify-settlement", "--gateway", gateway.url, "--key-file", keyFile, "stl_ok"], dir);
    expect(result.stdout).toContain("MATCHED");
    expect(result.code).toBe(0);
  });

  it("reports a logged receipt the settlement lacks", async () => {
    await publish("stl_missing", [inPeriod[0]!, inPeriod[2]!, ...others]);
    const { code, out } = await verify("stl_missing");
    expect(out).toMatch(/error: missing receipt: request req_2 \(signed [^,]+, \d+ micro-units\)/);
    expect(out).toContain("NOT MATCHED: 1 difference.");
    expect(code).toBe(1);
  });

  it("reports an amount that is not what the receipts add up to", async () => {
    await publish("stl_amount", [...inPeriod, ...others], (s) =>
      resign(s, (statement) => {
        const mine = statement.nodes.find((n) => n.node_id === identity.nodeId)!;
        mine.amount += 7;
        statement.amount += 7;
        s.proofs.get(identity.nodeId)!.node.amount += 7;
      }),
    );
    const { code, out } = await verify("stl_amount");
    expect(out).toContain(
      `error: wrong amount (micro-units): the receipts add up to ${3 * OWED}, the statement says ${3 * OWED + 7}`,
    );
    expect(code).toBe(1);
  });

  it("reports a statement whose signature does not verify", async () => {
    await publish("stl_badsig", [...inPeriod], async (s) => {
      const forged = await buildSettlement({ id: "stl_other", from: FROM, to: TO, receipts: inPeriod }, gateway.signer);
      s.statement.signature = forged.statement.signature;
    });
    const { code, out } = await verify("stl_badsig");
    expect(out).toContain(
      `error: bad signature: its signature does not verify with the gateway's key ${gateway.signer.keyId}`,
    );
    expect(code).toBe(1);
  });

  it("reports a receipt whose proof does not lead to the Merkle root", async () => {
    await publish("stl_badproof", [...inPeriod, ...others], (s) => {
      const leaf = s.proofs.get(identity.nodeId)!.leaves[0]!;
      leaf.proof[0] = `0x${"ab".repeat(32)}`;
    });
    const { code, out } = await verify("stl_badproof");
    expect(out).toMatch(/error: bad proof: the receipt for request req_\d does not prove into the Merkle root/);
    expect(code).toBe(1);
  });

  it("warns about receipts it has no log line for, but still matches on their signatures and proofs", async () => {
    await publish("stl_unlogged", [...inPeriod, ...unlogged, ...others]);
    const { code, out } = await verify("stl_unlogged");
    expect(out).toContain(
      "warning: 1 receipt in the settlement not in the local log (was the log rotated?): req_unlogged_1",
    );
    expect(out).toContain(`MATCHED: 4 receipts, amount owed ${4 * OWED} micro-units.`);
    expect(code).toBe(0);
  });

  it("reports a receipt in this node's name that neither its key nor its log vouches for", async () => {
    await publish("stl_forged", [...inPeriod, ...forged, ...others]);
    const { code, out } = await verify("stl_forged");
    expect(out).toContain("error: 1 receipt not signed by this node: req_forged_1");
    expect(out).toContain("NOT MATCHED: 1 difference.");
    expect(code).toBe(1);
  });

  it("accepts a receipt signed by an earlier key of this node when it is in the log, with a warning", async () => {
    await publish("stl_rotated", [...inPeriod, ...rotatedOut, ...others]);
    const { code, out } = await verify("stl_rotated", ["--receipt-log", rotatedLog]);
    expect(out).toContain("warning: 1 receipt signed by an earlier key of this node: req_rotated_1");
    expect(out).toContain(`MATCHED: 4 receipts, amount owed ${4 * OWED} micro-units.`);
    expect(code).toBe(0);
  });

  it("reports a statement other than the one asked for", async () => {
    gateway.publish(
      await buildSettlement({ id: "stl_real", from: FROM, to: TO, receipts: [...inPeriod, ...others] }, gateway.signer),
      "stl_asked",
    );
    const { code, out } = await verify("stl_asked");
    expect(out).toContain("error: the gateway answered with settlement stl_real, not stl_asked");
    expect(out).toContain("NOT MATCHED: 1 difference.");
    expect(code).toBe(1);
  });

  it("stops following proof pages once they bring more leaves than the statement counts", async () => {
    // The gateway pages on and on (here 20 pages of two) through leaves of a node whose entry counts three.
    await publish("stl_endless", [...inPeriod, ...others], (s) => {
      const proof = s.proofs.get(identity.nodeId)!;
      proof.leaves = Array.from({ length: 40 }, (_, i) => proof.leaves[i % proof.leaves.length]!);
    });
    const { code, err } = await verify("stl_endless");
    expect(err).toContain(
      "node-agent: error: page 1 of this node's proof in settlement stl_endless brings more than the statement's 3 " +
        "receipts of this node",
    );
    expect(code).toBe(2);
  });

  it("matches a settlement without this node when it signed nothing in the period", async () => {
    gateway.publish(
      await buildSettlement({ id: "stl_later", from: TO, to: TO + 3_600_000, receipts: others }, gateway.signer),
    );
    const { code, out } = await verify("stl_later");
    expect(out).toContain("MATCHED: 0 receipts, amount owed 0 micro-units.");
    expect(code).toBe(0);
  });

  it("exits 2 when the settlement or the receipt log cannot be read", async () => {
    const unknown = await verify("stl_nope");
    expect(unknown.err).toContain(
      "node-agent: error: the gateway refused settlement stl_nope: 404 settlement_not_found",
    );
    expect(unknown.code).toBe(2);
    const noLog = await verify("stl_ok", ["--receipt-log", join(dir, "nowhere.jsonl")]);
    expect(noLog.err).toContain("cannot read the receipt log");
    expect(noLog.code).toBe(2);
  });
});

describe("node-agent verify-settlement --all", () => {
  // Two settled periods with an hour between them no close covered. This node logged a receipt in each period, one in
  // the gap, one in the second period's last minute and one after it.
  const A = FROM + 10 * 3_600_000;
  const HOUR = 3_600_000;
  let allDir: string;
  let allKeyFile: string;
  let node: NodeIdentity;
  let r: { first: string; gap: string; second: string; lastMinute: string; after: string };
  const gateways: SettlementGateway[] = [];

  beforeAll(async () => {
    allDir = await mkdtemp(join(tmpdir(), "verify-all-"));
    allKeyFile = join(allDir, "node-key.json");
    node = await generateIdentity();
    await writeKeyFile(allKeyFile, node, { force: false });
    const log = await ReceiptLog.open(`${allKeyFile}.receipts.jsonl`, () => {});
    const prices = new Map([["m", PRICE]]);
    const logged = (now: number) => {
      const signer = new ReceiptSigner({ identity: () => node, prices, now: () => now });
      return {
        issue: async (a: AnsweredRequest) => {
          const token = await signer.issue(a);
          if (token) log.append(token);
          return token;
        },
      };
    };
    const one = async (at: number, name: string) => (await sign(logged, [at], name))[0]!;
    r = {
      first: await one(A + 1_000, "req_first"),
      gap: await one(A + HOUR + 1_000, "req_gap"),
      second: await one(A + 2 * HOUR + 1_000, "req_second"),
      lastMinute: await one(A + 3 * HOUR - 30_000, "req_last_minute"),
      after: await one(A + 3 * HOUR + 5_000, "req_after"),
    };
    await log.close();
  });

  afterAll(async () => {
    for (const g of gateways) await g.close();
    await rm(allDir, { recursive: true, force: true });
  });

  /** A gateway that closed [A, A+1h) and [A+2h, A+3h) with these receipts. */
  async function closed(first: readonly string[], second: readonly string[]): Promise<SettlementGateway> {
    const g = await startSettlementGateway();
    gateways.push(g);
    g.publish(
      await buildSettlement({ id: "stl_first", from: A, to: A + HOUR, receipts: [...first, ...others] }, g.signer),
    );
    g.publish(
      await buildSettlement({ id: "stl_second", from: A + 2 * HOUR, to: A + 3 * HOUR, receipts: second }, g.signer),
    );
    return g;
  }

  async function verifyAll(
    g: SettlementGateway,
    extra: string[] = [],
  ): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      err += String(chunk);
      return true;
    });
    try {
      return {
        code: await verifySettlementCommand(["--gateway", g.url, "--key-file", allKeyFile, "--all", ...extra]),
        out,
        err,
      };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  it("matches when every logged receipt is in some statement, the gap's swept into the next", async () => {
    const g = await closed([r.first], [r.gap, r.second]);
    const { code, out } = await verifyAll(g);
    expect(out).toContain("Settlements ending after");
    expect(out).toContain("Settlement stl_first:");
    expect(out).toContain("Settlement stl_second:");
    expect(out).toContain(
      "warning: 1 receipt signed in the newest settlement's last minute not in it (may be carried over into the " +
        "next settlement): req_last_minute_1",
    );
    expect(out).toContain("info: 1 receipt signed after the newest settlement ended: not settled yet: req_after_1");
    expect(out).toContain(`MATCHED: 3 receipts in 2 settlements, amount owed ${3 * OWED} micro-units.`);
    expect(code).toBe(0);
  });

  it("names a receipt from the gap between periods that no statement holds, and exits 1", async () => {
    const g = await closed([r.first], [r.second]);
    const { code, out } = await verifyAll(g);
    expect(out).toMatch(
      /error: missing receipt: request req_gap_1 \(signed [^,]+, \d+ micro-units\) is in no settlement/,
    );
    expect(out).toContain("NOT MATCHED: 1 difference.");
    expect(code).toBe(1);
    // Each statement on its own has nothing missing: only looking across them finds it.
    const single = await verify("stl_second", ["--key-file", allKeyFile, "--gateway", g.url]);
    expect(single.code).toBe(0);
  });

  it(
    "checks only from --since on: statements that ended before it and receipts signed before it are " + "left out",
    async () => {
      const g = await closed([r.first], [r.second]);
      const since = Math.floor((A + 2 * HOUR) / 1000);
      const { code, out } = await verifyAll(g, ["--since", String(since)]);
      expect(out).toContain(`Settlements ending after ${new Date(since * 1000).toISOString()}: 1`);
      expect(out).not.toContain("stl_first");
      expect(out).not.toContain("req_gap");
      expect(code).toBe(0);
      expect((await verifyAll(g, ["--since", new Date(A).toISOString()])).code).toBe(1);
    },
  );

  it("reports a receipt settled in two statements", async () => {
    const g = await closed([r.first], [r.first, r.gap, r.second]);
    const { code, out } = await verifyAll(g);
    expect(out).toContain("error: request req_first_1 is settled in 2 statements: stl_first, stl_second");
    expect(code).toBe(1);
  });

  it("refuses --all with an id, and --since without --all", async () => {
    const g = await closed([], []);
    await expect(verifyAll(g, ["stl_first"])).rejects.toThrow(UsageError);
    await expect(verifySettlementCommand(["--gateway", g.url, "--since", "0", "stl_first"])).rejects.toThrow(
      /--since goes with --all/,
    );
    await expect(verifyAll(g, ["--since", "last week"])).rejects.toThrow(UsageError);
  });

  it("runs from the command line, exiting 1 on a gap receipt", { timeout: 20_000 }, async () => {
    const g = await closed([r.first], [r.second]);
    const result = await runCli(["verify-settlement", "--gateway", g.url, "--key-file", allKeyFile, "--all"], allDir);
    expect(result.stdout).toContain("req_gap_1");
    expect(result.code).toBe(1);
  });
});

describe("node-agent verify-settlement on a short period", () => {
  it("is a difference: too short to check one statement alone", async () => {
    gateway.publish(
      await buildSettlement(
        { id: "stl_short", from: TO + 7_200_000, to: TO + 7_200_000 + 300_000, receipts: others },
        gateway.signer,
      ),
    );
    const { code, out } = await verify("stl_short");
    expect(out).toContain(
      "error: the period lasts 300000 ms, less than the minimum 3600000 ms: too short to check (use --all)",
    );
    expect(code).toBe(1);
  });
});
