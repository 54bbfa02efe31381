// `node-agent verify-settlement`: checks what the gateway says it owes this node against the receipts the node signed:
// one statement (by id), or with --all every statement since a time, and that every logged receipt is in one of them.
// Exit 0: matched; 1: differences (printed); 2: usage, file or network errors.
import { parseArgs } from "node:util";
import { DEFAULT_KEY_FILE, readKeyFile } from "../identity/key-file.js";
import type { NodeIdentity } from "../identity/node-identity.js";
import { errorMessage } from "../log.js";
import { readReceiptLog, type ReceiptLogContents } from "../receipts/read-receipt-log.js";
import { receiptLogPathFor } from "../receipts/receipt-log.js";
import { checkStatement } from "../settlement/check-statement.js";
import { compareWithLog } from "../settlement/compare-log.js";
import { fetchSettlement, GatewayFetchError } from "../settlement/fetch-settlement.js";
import { Findings } from "../settlement/findings.js";
import { formatReport } from "../settlement/report.js";
import { verifyAll, type Verdict } from "../settlement/verify-all.js";
import { VERIFY_SETTLEMENT_HELP } from "./help.js";
import { parseSince } from "./since-option.js";
import { httpUrl } from "./start-options.js";
import { UsageError } from "./usage-error.js";

/** Something needed could not be read: neither a match nor a mismatch. */
class CannotVerify extends Error {}

async function readInputs(
  keyFile: string,
  logPath: string,
): Promise<{ identity: NodeIdentity; log: ReceiptLogContents }> {
  let identity: NodeIdentity;
  try {
    identity = await readKeyFile(keyFile);
  } catch (err) {
    throw new CannotVerify(`cannot read the node key ${keyFile}: ${errorMessage(err)}`);
  }
  try {
    return { identity, log: await readReceiptLog(logPath) };
  } catch (err) {
    throw new CannotVerify(`cannot read the receipt log ${logPath} (pass --receipt-log): ${errorMessage(err)}`);
  }
}

/** One statement, against the log entries signed within its period. */
async function verifyOne(
  gatewayUrl: string,
  id: string,
  identity: NodeIdentity,
  log: ReceiptLogContents,
): Promise<Verdict> {
  const { statement, proof, keys } = await fetchSettlement(gatewayUrl, id, identity.nodeId);
  const findings = new Findings();
  // A statement signed for another period would otherwise be checked, and could match, in place of this one.
  if (statement.id !== id) findings.error(`the gateway answered with settlement ${statement.id}, not ${id}`);
  const settled = await checkStatement(
    { statement, proof, keys, nodeId: identity.nodeId, publicKey: identity.publicKey, log },
    findings,
  );
  compareWithLog(statement, identity.nodeId, settled, log, findings);
  return {
    report: formatReport({ statement, nodeId: identity.nodeId, receipts: settled.length, findings }),
    errors: findings.errors,
  };
}

export async function verifySettlementCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      gateway: { type: "string" },
      "key-file": { type: "string" },
      "receipt-log": { type: "string" },
      all: { type: "boolean" },
      since: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(VERIFY_SETTLEMENT_HELP);
    return 0;
  }
  const gatewayUrl = httpUrl("gateway", values.gateway);
  const since = values.since === undefined ? null : parseSince(values.since);
  const [id, ...extra] = positionals;
  if (values.all && positionals.length > 0) throw new UsageError("verify-settlement --all takes no settlement id");
  if (!values.all && since !== null) throw new UsageError("--since goes with --all");
  if (!values.all && (!id || extra.length > 0))
    throw new UsageError("verify-settlement takes exactly one settlement id, or --all");
  const keyFile = values["key-file"] ?? DEFAULT_KEY_FILE;
  let verdict: Verdict;
  try {
    const { identity, log } = await readInputs(keyFile, values["receipt-log"] ?? receiptLogPathFor(keyFile));
    verdict =
      values.all || !id
        ? await verifyAll({ gatewayUrl, identity, log, since })
        : await verifyOne(gatewayUrl, id, identity, log);
  } catch (err) {
    if (!(err instanceof CannotVerify || err instanceof GatewayFetchError)) throw err;
    process.stderr.write(`node-agent: error: ${err.message}\n`);
    return 2;
  }
  process.stdout.write(verdict.report);
  return verdict.errors === 0 ? 0 : 1;
}
