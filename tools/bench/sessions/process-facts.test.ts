import { describe, expect, it } from "vitest";
import { parseOpenFilesLimit, parseVmRssKb, sumOver } from "./process-facts.js";

describe("parseVmRssKb", () => {
  it("reads VmRSS from /proc/<pid>/status", () => {
    expect(parseVmRssKb("Name:\tworkerd\nVmPeak:\t  999 kB\nVmRSS:\t  442312 kB\nRssAnon:\t 1 kB\n")).toBe(442_312);
    expect(parseVmRssKb("Name:\tkthreadd\n")).toBeNull();
  });
});

describe("parseOpenFilesLimit", () => {
  it("reads the soft and hard limits", () => {
    const limits =
      "Limit                     Soft Limit           Hard Limit           Units\n" +
      "Max open files            20000                20000                files\n";
    expect(parseOpenFilesLimit(limits)).toEqual({ soft: 20_000, hard: 20_000 });
    expect(parseOpenFilesLimit("Max open files            1024                 unlimited            files")).toEqual({
      soft: 1024,
      hard: Number.POSITIVE_INFINITY,
    });
    expect(parseOpenFilesLimit("")).toBeNull();
  });
});

describe("sumOver", () => {
  it("sums, or gives null when any process cannot be read", () => {
    expect(sumOver([1, 2], (pid) => pid * 10)).toBe(30);
    expect(sumOver([1, 2], (pid) => (pid === 2 ? null : 1))).toBeNull();
  });
});
