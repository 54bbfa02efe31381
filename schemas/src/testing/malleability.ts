// The two ways one valid Ed25519 signature can be re-encoded into another that a lax verifier would also accept.

/** The order of the Ed25519 group, L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L = [
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/**
 * R ‖ (S + L): the same point equation holds, so only a verifier that insists on S < L (RFC 8032 §5.1.7) refuses it.
 */
export function malleateSignature(signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(signature);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const sum = out[32 + i]! + L[i]! + carry;
    out[32 + i] = sum & 0xff;
    carry = sum >> 8;
  }
  return out;
}

/**
 * The Signature header with the unused low bits of its last base64 character set: a lax decoder reads the same 64
 * bytes, so without a canonical-encoding check one signature would have several textual forms.
 */
export function nonCanonicalSignatureHeader(header: string): string {
  return header.replace(/([A-Za-z0-9+/])(==:)/, (_m, last: string, tail: string) => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    return `${alphabet[alphabet.indexOf(last) | 1]!}${tail}`;
  });
}
