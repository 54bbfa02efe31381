import { describe, expect, it } from "vitest";
import { csvField, csvResponse, toCsv } from "./usage-csv.js";

describe("usage CSV", () => {
  it("writes RFC 4180: a header row, CRLF line ends, quotes only where needed, quotes doubled", () => {
    const csv = toCsv(
      ["model", "requests", "streamed", "note"],
      [
        ["plain", 3, true, null],
        ['say "hi", twice', 0, false, "line\r\nbreak"],
        ["lf\nonly", 1, false, "cr\ronly"],
      ],
    );
    expect(csv).toBe(
      'model,requests,streamed,note\r\nplain,3,true,\r\n"say ""hi"", twice",0,false,"line\r\nbreak"\r\n"lf\nonly",1,false,"cr\ronly"\r\n',
    );
  });

  it("defuses text a spreadsheet would run as a formula, quoting it when it needs quotes too", () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvField("+1")).toBe("'+1");
    expect(csvField("-2+3")).toBe("'-2+3");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("\t=1")).toBe("'\t=1");
    expect(csvField("\r=1")).toBe(`"'\r=1"`);
    expect(csvField("a=b")).toBe("a=b");
    // Numbers are data, never formulas.
    expect(csvField(-5)).toBe("-5");
  });

  it("serves a download named after the range", async () => {
    const res = csvResponse("a\r\n", Date.UTC(2026, 3, 1), Date.UTC(2026, 4, 1));
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="usage-20260401-20260501.csv"');
    expect(await res.text()).toBe("a\r\n");
  });
});
