// `node-agent rotate-key`: moves the node to a fresh key. The node id, reputation and usage history stay; the old key
// is refused by the gateway from then on. A running agent picks the new key up from the key file by itself.
import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { requestKeyRotation, RotationRefused } from "../gateway/key-rotation.js";
import { DEFAULT_KEY_FILE, readKeyFile, writeKeyFile } from "../identity/key-file.js";
import { nextIdentity, type NodeIdentity } from "../identity/node-identity.js";
import { ROTATE_KEY_HELP } from "./help.js";
import { httpUrl } from "./start-options.js";
import { UsageError } from "./usage-error.js";

export async function rotateKeyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { gateway: { type: "string" }, "key-file": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(ROTATE_KEY_HELP);
    return 0;
  }
  const gatewayUrl = httpUrl("gateway", values.gateway);
  const path = values["key-file"] ?? DEFAULT_KEY_FILE;
  const pending = `${path}.next`;
  const current = await readKeyFile(path);
  const next = await pendingKey(pending, current);
  try {
    const ack = await requestKeyRotation(gatewayUrl, current, next);
    await rename(pending, path);
    process.stderr.write(
      `rotated: node ${ack.node_id} now signs with key ${ack.keyid}; key ${ack.previous_keyid} is retired.\n`,
    );
    process.stdout.write(`${ack.keyid}\n`);
    return 0;
  } catch (err) {
    // Only a refusal proves the gateway did not switch; after a timeout or a 5xx it may have, and then the new key in
    // FILE.next is the node's only key. Running the command again resumes with it (the gateway answers a retry ok).
    if (err instanceof RotationRefused) await rm(pending, { force: true });
    else
      process.stderr.write(
        `the rotation's outcome is unknown; ${pending} is kept: run the same command again to finish it.\n`,
      );
    throw err;
  }
}

/**
 * The key to rotate to: the one an interrupted run left in FILE.next, else a fresh one, written there before the
 * gateway hears of it, so an accepted rotation can never lose its key.
 */
async function pendingKey(pending: string, current: NodeIdentity): Promise<NodeIdentity> {
  if (existsSync(pending)) {
    const resumed = await readKeyFile(pending);
    if (resumed.nodeId !== current.nodeId) throw new UsageError(`${pending} belongs to another node; delete it`);
    process.stderr.write(`resuming the interrupted rotation to key ${resumed.signer.keyId}\n`);
    return resumed;
  }
  const next = await nextIdentity(current);
  await writeKeyFile(pending, next, { force: false });
  return next;
}
