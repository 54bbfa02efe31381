// Checks that a settlement statement is signed by one of the gateway's published keys.
import { fromBase64, settlementStatementBytes, type GatewayKey, type SettlementStatement } from "@meshgate/schemas";
import { importGatewayKey, verifyWith, type UsableKey } from "../gateway/gateway-verifier.js";
import { errorMessage } from "../log.js";

/** Null when the signature holds; otherwise why it does not. */
export function statementSignatureProblem(statement: SettlementStatement, keys: readonly GatewayKey[]): string | null {
  const published = keys.find((k) => k.kid === statement.key_id);
  if (!published) return `it is signed by key ${statement.key_id}, which the gateway does not publish`;
  let key: UsableKey;
  try {
    key = importGatewayKey(published);
  } catch (err) {
    return `the gateway's key ${statement.key_id} is unusable: ${errorMessage(err)}`;
  }
  // A retired key still vouches for what it signed while it was in use, not after.
  if (key.notAfter !== null && statement.created > key.notAfter)
    return `it was closed after its key ${statement.key_id} was retired`;
  const signature = fromBase64(statement.signature);
  if (!signature || !verifyWith(key.key, settlementStatementBytes(statement), signature))
    return `its signature does not verify with the gateway's key ${statement.key_id}`;
  return null;
}
