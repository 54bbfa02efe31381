// --help text for the CLI and each command.
import { DEFAULT_KEY_FILE } from "../identity/key-file.js";
import { DEFAULT_CAPACITY, DEFAULT_LISTEN } from "./start-options.js";

const RECEIPT_LOG_DEFAULT = "<key file>.receipts.jsonl";

export const MAIN_HELP = `Usage: node-agent <command> [options]

Runs beside an OpenAI-compatible inference server (Ollama, vLLM, llama.cpp, LM Studio) and joins it to a
Meshgate gateway.

Commands:
  keygen      create this node's Ed25519 identity and print its node id
  start       register with the gateway and serve its signed requests
  rotate-key  move this node to a new key (the node id and its reputation stay)
  verify-settlement
              check a settlement the gateway signed (or, with --all, every one since a date) against the receipts
              this node signed

Run \`node-agent <command> --help\` for a command's options.
`;

export const KEYGEN_HELP = `Usage: node-agent keygen [--key-file FILE] [--force]

Creates an Ed25519 key pair, stores it as a private JWK readable only by you (mode 0600), and prints the node id
on stdout: the key's RFC 7638 thumbprint. The node id is how the gateway knows this node, and it stays the same
when the key is rotated.

Options:
  --key-file FILE   where to store the key (default ${DEFAULT_KEY_FILE})
  --force           replace an existing key file (the old node id is gone for good)
  -h, --help        show this help
`;

export const START_HELP = `Usage: node-agent start --gateway URL --upstream URL [options]

Loads the node key (creating it if missing), learns the models the upstream serves and the gateway's public
key, then serves the gateway's signed requests. Stop with Ctrl-C/SIGTERM.

Two ways to reach the gateway:
  session mode (the default)  the agent dials the gateway over a WebSocket (wss://) and the gateway sends its
                              requests down it: no port is opened, so a node behind NAT or a firewall works. The
                              agent reconnects by itself after a gateway restart or a network failure. If another
                              agent starts with the same key, this one stops (exit status 1).
  listening mode              with --listen or --public-url: the agent listens on a port and heartbeats its URL;
                              the gateway must be able to reach that URL. It also holds a session (when the
                              gateway has them): once the URL is proven, heartbeats pause while the session is up,
                              and requests still come straight to the URL.

Options:
  --gateway URL       the Meshgate gateway, e.g. https://meshgate.example.workers.dev
  --upstream URL      the inference server root, e.g. http://127.0.0.1:11434 (a trailing /v1 is ignored)
  --listen HOST:PORT  listening mode: where to listen (default ${DEFAULT_LISTEN} with --public-url; port 0 picks a
                      free port)
  --public-url URL    listening mode: how the gateway reaches this node (default http://<listen host>:<port>)
  --key-file FILE     the node key (default ${DEFAULT_KEY_FILE})
  --models a,b        advertise these models instead of asking the upstream's /v1/models
  --capacity N        concurrent requests this node accepts (default ${DEFAULT_CAPACITY})
  --price MODEL=PROMPT:COMPLETION
                      charge for MODEL: integer micro-units (1,000,000 = one unit of the settlement currency) per
                      million prompt and completion tokens, e.g. --price llama3=150000:600000. Repeat for each model;
                      a model without a price is served free. A priced model not in --models is an error; one the
                      upstream turns out not to serve is a warning (its price is not advertised). A price above
                      the ceiling the gateway publishes stops the agent from starting.
  --context-length MODEL=TOKENS
                      MODEL's context (prompt and completion tokens together), advertised to the gateway; overrides
                      what the upstream reports (vLLM's max_model_len). Repeat for each model; same rules as --price.
                      Without one, a budgeted client that sets no max_tokens is reserved for an assumed context, and
                      an answer longer than that is not paid.
  --responses-api     the upstream serves the Responses API (POST /v1/responses) itself, as vLLM and Ollama 0.13.3+
                      do: the gateway passes such requests through to it instead of translating them to Chat
                      Completions. Off by default; leave it off for servers that only serve Chat Completions.
  --receipt-log FILE  where every delivered receipt is appended, one JSON line each (default ${RECEIPT_LOG_DEFAULT})
  -h, --help          show this help

Every answer the upstream gives with status 200 and a usage count carries this node's signed receipt (the
\`meshgate-receipt\` header, or a last \`: meshgate-receipt\` comment after a stream's [DONE]); the gateway settles
what it owes the node from those receipts. When the gateway cancels a stream (its client left), the agent stops the
upstream and ends the stream with a receipt for the part it relayed, without [DONE]. Check a settlement with
\`node-agent verify-settlement\`.
`;

export const ROTATE_KEY_HELP = `Usage: node-agent rotate-key --gateway URL [--key-file FILE]

Generates a new key and asks the gateway to move this node to it, in a request signed by both the old and the new
key. The node id, reputation and usage history stay; the old key is refused from then on. The new key replaces the
old one in the key file (written to FILE.next first); a running agent switches to it at its next heartbeat.
Prints the new key id on stdout.

Options:
  --gateway URL     the Meshgate gateway the node is registered with
  --key-file FILE   the node key (default ${DEFAULT_KEY_FILE})
  -h, --help        show this help
`;

export const VERIFY_SETTLEMENT_HELP = `Usage: node-agent verify-settlement --gateway URL [--key-file FILE] [--receipt-log FILE] SETTLEMENT_ID
       node-agent verify-settlement --gateway URL [--key-file FILE] [--receipt-log FILE] --all [--since DATE]

Fetches the settlement statement from the gateway and this node's receipts in it with their Merkle proofs, then
checks: the statement's signature (a key in /.well-known/meshgate.json); its totals and Merkle root; every receipt
(this node's, proven into the root, owed what its tokens and price say); that the node's totals are exactly what its
receipts add up to; and that every receipt in the local log signed within the period is in the settlement. A period
shorter than an hour is a difference: too short to check on its own.

Receipts in the settlement that are not in the local log (e.g. the log was rotated) are a warning, not a
difference: their signatures and proofs decide. So are logged receipts from the period's last minute (they may be
settled in the next period, as carried over), and receipts signed by an earlier key of this node: only the current
key is kept, so such a receipt must be in the local log, byte for byte, or it is not this node's (a difference).

With --all, checks every statement whose period ends after DATE (GET /v1/settlements) as above, then that every
receipt in the local log signed since DATE is in one of them, so receipts from a gap between periods or from a
period's last minute can't go unnoticed. A receipt in no statement is a difference, unless it was signed in the
newest statement's last minute (a warning: it may be paid by the next close) or after its end (not settled yet). A
receipt settled in two statements is a difference.

Exit status: 0 matched, 1 differences (each printed), 2 usage, file or network errors.

Options:
  --gateway URL        the Meshgate gateway that issued the settlement
  --key-file FILE      the node key (default ${DEFAULT_KEY_FILE})
  --receipt-log FILE   the agent's receipt log (default ${RECEIPT_LOG_DEFAULT})
  --all                every settlement since DATE, and every logged receipt since DATE in one of them
  --since DATE         with --all: unix seconds or an ISO 8601 date (default: the first receipt in the log)
  -h, --help           show this help
`;
