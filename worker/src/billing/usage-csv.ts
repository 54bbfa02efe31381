// Usage as CSV (RFC 4180): CRLF line ends, a header row, fields quoted when they hold a comma, quote, CR or LF.
// Model names and the like come from nodes and key names from operators, so a text field a spreadsheet would run as
// a formula (starting with = + - @, or a tab or CR that some spreadsheets skip first) gets a leading apostrophe.

export type CsvValue = string | number | bigint | boolean | null;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: CsvValue): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(",")}\r\n`).join("");
}

/** Served as a download named after the range, e.g. usage-20260401-20260501.csv. */
export function csvResponse(csv: string, from: number, to: number): Response {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/\D/g, "");
  return new Response(csv, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="usage-${day(from)}-${day(to)}.csv"`,
    },
  });
}
