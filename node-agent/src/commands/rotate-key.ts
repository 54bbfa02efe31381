// `node-agent rotate-key`: moves the node to a fresh key. The node id, reputation and usage history stay; the old key
// is refused by the gateway from then on. A running agent picks the new key up from the key file by itself.
import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { requestKeyRotation } from "../gateway/key-rotation.js";
import { DEFAULT_KEY_FILE, readKeyFile, writeKeyFile } from "../identity/key-file.js";
import { nextIdentity } from "../identity/node-identity.js";
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
  if (existsSync(pending)) {
    throw new UsageError(`${pending} exists from an interrupted rotation: if the gateway accepted it, move it over ${path}; otherwise delete it`);
  }
  const current = await readKeyFile(path);
  const next = await nextIdentity(current);
  // The new key is on disk before the gateway hears of it, so an accepted rotation can never lose its key.
  await writeKeyFile(pending, next, { force: false });
  try {
    const ack = await requestKeyRotation(gatewayUrl, current, next);
    await rename(pending, path);
    process.stderr.write(`rotated: node ${ack.node_id} now signs with key ${ack.keyid}; key ${ack.previous_keyid} is retired.\n`);
    process.stdout.write(`${ack.keyid}\n`);
    return 0;
  } catch (err) {
    await rm(pending, { force: true });
    throw err;
  }
}
