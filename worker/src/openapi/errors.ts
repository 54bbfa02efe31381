// The gateway's refusals (components/responses): every one in OpenAI's error shape, one response per status, saying
// what causes it and which `code`s it carries.
import { type HeaderName, RATE_LIMIT } from "./headers.js";

export interface ErrorStatus {
  description: string;
  /** Besides the headers on every answer. */
  headers: readonly HeaderName[];
}

export const ERROR_STATUSES = {
  400: {
    description:
      "The request is malformed: `invalid_json`, `json_too_deep`, `invalid_value` (`param` names the field), `incomplete_body`, `invalid_routing_control`, `unsupported_routing_control`, `forbidden_node_url`, `price_above_ceiling`, `outside_retention`, `period_not_over`, `period_too_short`, `answer_too_large`, `invalid_node_id`; for the Responses API `unsupported_parameter` (a field or item it cannot serve, named in `param`), `missing_required_parameter` (no input) and `unsupported_stateful_feature` (stored responses).",
    headers: [],
  },
  401: {
    description:
      "Missing or wrong credentials: `invalid_api_key`, `invalid_admin_token`; for nodes `missing_signature`, `malformed_signature`, `insufficient_coverage`, `bad_signature`, `bad_digest`, `signature_expired`, `signature_not_yet_valid`, `replayed_nonce`, `unknown_key`, `revoked_key`, `stale_timestamp`.",
    headers: [],
  },
  403: { description: "The node is banned: `node_banned`.", headers: [] },
  404: {
    description:
      "Not found: `model_not_found`, `no_eligible_node` (none passes the request's `provider` controls), `key_not_found`, `node_not_found`, `settlement_not_found`, `node_not_in_settlement`, `unknown_url`, `unsupported_endpoint`.",
    headers: [],
  },
  409: {
    description:
      "Conflicts with the gateway's state: `replayed_heartbeat`, `key_in_use`, `too_many_identities`, `session_superseded`, `settlement_overlap`, `settlement_aborted`, `settlement_closed`.",
    headers: [],
  },
  413: {
    description:
      "The body is too large (4 MiB; 64 KiB for heartbeats; 16 KiB for admin bodies and key rotations): `request_too_large`.",
    headers: [],
  },
  415: {
    description:
      "The body is not JSON (`text/plain` and form-encoded bodies are read as JSON): `unsupported_media_type`.",
    headers: [],
  },
  426: { description: "Not a WebSocket upgrade: `upgrade_required`.", headers: [] },
  429: {
    description:
      "Too many requests: `rate_limit_exceeded` (the key's `rpm` or `tpm`), `insufficient_quota` (the key's budget cannot cover the request's worst case; type `insufficient_quota`), or for nodes `rate_limited` (heartbeats, rotations or registrations too fast).",
    headers: ["Retry-After", ...RATE_LIMIT],
  },
  500: { description: "The gateway failed: `internal_error`, `gateway_misconfigured`.", headers: [] },
  502: { description: "Every node tried failed: `upstream_error`.", headers: [] },
  503: {
    description:
      "Retry shortly: `no_capacity` (every node serving the model is at capacity), `gateway_busy` (a Durable Object the request needs is overloaded), `settlement_close_failed`, `settlement_abort_failed`.",
    headers: ["Retry-After"],
  },
} as const satisfies Record<number, ErrorStatus>;

export type ErrorCode = keyof typeof ERROR_STATUSES;
