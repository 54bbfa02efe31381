// `node-agent verify-settlement`: checks what the gateway says it owes this node for a period against the receipts
// the node signed. Exit 0: matched; 1: differences (printed); 2: usage, file or network errors.
import { parseArgs } from "node:util";
import { DEFAULT_KEY_FILE, readKeyFile } from "../identity/key-file.js";
import type { NodeIdentity } from "../identity/node-identity.js";
import { errorMessage } from "../log.js";
import { readReceiptLog, type ReceiptLogContents } from "../receipts/read-receipt-log.js";
import { receiptLogPathFor } from "../receipts/receipt-log.js";
import { compareWithLog } from "../settlement/compare-log.js";
import { fetchSettlement, GatewayFetchError, type FetchedSettlement } from "../settlement/fetch-settlement.js";
import { Findings } from "../settlement/findings.js";
import { checkNodeLeaves } from "../settlement/node-leaves.js";
import { formatReport } from "../settlement/report.js";
import { statementSignatureProblem } from "../settlement/statement-signature.js";
import { checkStatementTotals } from "../settlement/statement-totals.js";
import { VERIFY_SETTLEMENT_HELP } from "./help.js";
import { httpUrl } from "./start-options.js";
import { UsageError } from "./usage-error.js";

/** Something needed could not be read: neither a match nor a mismatch. */
class CannotVerify extends Error {}

async function readInputs(keyFile: string, logPath: string): Promise<{ identity: NodeIdentity; log: ReceiptLogContents }> {
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

export async function verifySettlementCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { gateway: { type: "string" }, "key-file": { type: "string" }, "receipt-log": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(VERIFY_SETTLEMENT_HELP);
    return 0;
  }
  const gatewayUrl = httpUrl("gateway", values.gateway);
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError("verify-settlement takes exactly one settlement id");
  const keyFile = values["key-file"] ?? DEFAULT_KEY_FILE;
  let identity: NodeIdentity;
  let log: ReceiptLogContents;
  let fetched: FetchedSettlement;
  try {
    ({ identity, log } = await readInputs(keyFile, values["receipt-log"] ?? receiptLogPathFor(keyFile)));
    fetched = await fetchSettlement(gatewayUrl, id, identity.nodeId);
  } catch (err) {
    if (!(err instanceof CannotVerify || err instanceof GatewayFetchError)) throw err;
    process.stderr.write(`node-agent: error: ${err.message}\n`);
    return 2;
  }
  const { statement, proof, keys } = fetched;
  const findings = new Findings();
  // A statement signed for another period would otherwise be checked, and could match, in place of this one.
  if (statement.id !== id) findings.error(`the gateway answered with settlement ${statement.id}, not ${id}`);
  const signature = statementSignatureProblem(statement, keys);
  if (signature) findings.error(`bad signature: ${signature}`);
  checkStatementTotals(statement, findings);
  const settled = await checkNodeLeaves({ statement, proof, nodeId: identity.nodeId, publicKey: identity.publicKey, log }, findings);
  compareWithLog(statement, identity.nodeId, settled, log, findings);
  process.stdout.write(formatReport({ statement, nodeId: identity.nodeId, receipts: settled.length, findings }));
  return findings.errors === 0 ? 0 : 1;
}
