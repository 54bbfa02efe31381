// @ts-check
// JSON whose integers may pass 2^53 (the usage API writes exact sums as plain integer literals): such a literal becomes
// a BigInt instead of a rounded number. Other values parse as JSON.parse parses them.

/** @typedef {number | bigint} Int */

/**
 * Finds each integer literal outside strings that is too long to be exact as a number.
 * @param {string} text
 * @returns {{ start: number, end: number }[]}
 */
function bigLiterals(text) {
  /** @type {{ start: number, end: number }[]} */
  const found = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      const start = i;
      i++;
      while (i < text.length && /[0-9.eE+-]/.test(text[i] ?? "")) i++;
      const literal = text.slice(start, i);
      if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) found.push({ start, end: i });
    } else i++;
  }
  return found;
}

/**
 * A prefix no string value in the JSON starts with, so a string carrying it can only be one of ours.
 * @param {string} text
 * @returns {string}
 */
function unusedMarker(text) {
  /** @type {string[]} */
  const strings = [];
  JSON.parse(text, (_key, value) => {
    if (typeof value === "string") strings.push(value);
    return value;
  });
  let marker = "#exact:";
  while (strings.some((s) => s.startsWith(marker))) marker += "#";
  return marker;
}

/**
 * @param {string} text
 * @returns {unknown}
 */
export function parseExactJson(text) {
  const big = bigLiterals(text);
  if (big.length === 0) return JSON.parse(text);
  // Each big literal is written as a string behind a marker no string in it starts with, then turned into a BigInt.
  const marker = unusedMarker(text);
  let rewritten = "";
  let from = 0;
  for (const { start, end } of big) {
    rewritten += `${text.slice(from, start)}"${marker}${text.slice(start, end)}"`;
    from = end;
  }
  rewritten += text.slice(from);
  return JSON.parse(rewritten, (_key, value) =>
    typeof value === "string" && value.startsWith(marker) ? BigInt(value.slice(marker.length)) : value,
  );
}
