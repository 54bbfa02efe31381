// RFC 9421 HTTP Message Signatures: builds the signature base, signs and verifies.
// Algorithm-agnostic: callers pass the sign/verify primitive (WebCrypto in the Worker, node:crypto in the agent).
import { toBase64 } from "./base64.js";
import { utf8 } from "./bytes.js";
import { parseDictionary, serializeString, type InnerList, type Member } from "./structured-fields.js";

export interface HttpMessage {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
}

export type SignatureParamValue = string | number;
/** Signature parameters in the order they are serialized, e.g. created, expires, nonce, keyid, alg. */
export type SignatureParamList = ReadonlyArray<readonly [string, SignatureParamValue]>;

export class SignatureError extends Error {
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const FIELD_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

function componentValue(message: HttpMessage, url: URL, name: string): string {
  switch (name) {
    case "@method":
      return message.method.toUpperCase();
    case "@authority":
      return url.host.toLowerCase();
    case "@path":
      return url.pathname || "/";
    case "@query":
      return url.search || "?";
    case "@scheme":
      return url.protocol.replace(/:$/, "");
    case "@target-uri":
      return url.href;
  }
  if (name.startsWith("@")) throw new SignatureError("unsupported_component", `unsupported derived component ${name}`);
  // Covered names come from the sender; one that is not a lowercase field name would make Headers.get throw.
  if (!FIELD_NAME.test(name))
    throw new SignatureError("malformed_signature", "a covered component is not a field name");
  const value = message.headers.get(name);
  if (value === null) throw new SignatureError("missing_component", `covered header ${name} is missing`);
  return value.trim();
}

export function serializeSignatureParams(components: readonly string[], params: SignatureParamList): string {
  const list = `(${components.map(serializeString).join(" ")})`;
  return list + params.map(([k, v]) => `;${k}=${typeof v === "number" ? String(v) : serializeString(v)}`).join("");
}

/** The exact bytes that get signed (RFC 9421 §2.5). */
export function signatureBase(message: HttpMessage, components: readonly string[], serializedParams: string): string {
  const url = new URL(message.url);
  let base = "";
  for (const name of components) base += `${serializeString(name)}: ${componentValue(message, url, name)}\n`;
  return `${base}"@signature-params": ${serializedParams}`;
}

export interface SignOptions {
  message: HttpMessage;
  components: readonly string[];
  params: SignatureParamList;
  label?: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Returns the `Signature-Input` and `Signature` header values. */
export async function signMessage(opts: SignOptions): Promise<{ signatureInput: string; signature: string }> {
  const label = opts.label ?? "sig1";
  const serialized = serializeSignatureParams(opts.components, opts.params);
  const sig = await opts.sign(utf8(signatureBase(opts.message, opts.components, serialized)));
  return { signatureInput: `${label}=${serialized}`, signature: `${label}=:${toBase64(sig)}:` };
}

export interface ParsedSignature {
  label: string;
  components: string[];
  params: Map<string, string | number>;
  base: Uint8Array;
  signature: Uint8Array;
}

/**
 * Parses the signature headers and builds the base for one signature. Throws SignatureError. Does not check the
 * signature itself: callers decide which key to use from the parameters, then verify `signature` over `base`.
 */
export function parseSignedMessage(message: HttpMessage, label?: string): ParsedSignature {
  const inputHeader = message.headers.get("signature-input");
  const sigHeader = message.headers.get("signature");
  if (!inputHeader || !sigHeader)
    throw new SignatureError(
      "missing_signature",
      "the request is not signed (Signature and Signature-Input headers required)",
    );
  let inputs: Map<string, Member>;
  let sigs: Map<string, Member>;
  try {
    inputs = parseDictionary(inputHeader);
    sigs = parseDictionary(sigHeader);
  } catch (err) {
    throw new SignatureError("malformed_signature", `malformed signature header: ${(err as Error).message}`);
  }
  const chosen = label ?? inputs.keys().next().value;
  const input = chosen === undefined ? undefined : inputs.get(chosen);
  const sig = chosen === undefined ? undefined : sigs.get(chosen);
  if (!chosen || !input || !sig) throw new SignatureError("missing_signature", "no matching signature label");
  const list = input.value as InnerList;
  if (typeof list !== "object" || !("items" in list))
    throw new SignatureError("malformed_signature", "Signature-Input member is not an inner list");
  if (!(sig.value instanceof Uint8Array))
    throw new SignatureError("malformed_signature", "Signature member is not a byte sequence");
  const params = new Map<string, string | number>();
  for (const [k, v] of list.params) {
    if (typeof v !== "string" && typeof v !== "number")
      throw new SignatureError("malformed_signature", `bad parameter ${k}`);
    params.set(k, v);
  }
  if (new Set(list.items).size !== list.items.length)
    throw new SignatureError("malformed_signature", "duplicate covered component");
  const base = utf8(signatureBase(message, list.items, input.raw));
  return { label: chosen, components: list.items, params, base, signature: sig.value };
}
