// `node-agent keygen`: creates the node identity and prints its node id (stdout, alone, for scripts).
import { parseArgs } from "node:util";
import { DEFAULT_KEY_FILE, writeKeyFile } from "../identity/key-file.js";
import { generateIdentity } from "../identity/node-identity.js";
import { KEYGEN_HELP } from "./help.js";

export async function keygenCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { "key-file": { type: "string" }, force: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(KEYGEN_HELP);
    return 0;
  }
  const path = values["key-file"] ?? DEFAULT_KEY_FILE;
  const identity = await generateIdentity();
  await writeKeyFile(path, identity, { force: values.force === true });
  process.stderr.write(`wrote ${path} (mode 0600); keep it private. Node id:\n`);
  process.stdout.write(`${identity.nodeId}\n`);
  return 0;
}
