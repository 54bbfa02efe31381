import { describe, expect, it } from "vitest";
import { LogTally, logKind } from "./gateway-log.js";

describe("logKind", () => {
  it("gives repeats of one error one kind", () => {
    const a =
      "workerd/jsg/util.c++:405: error: e = kj/compat/http.c++:4191: failed; wdErrId = 7qtct4ovm24n6s0meaagp93q";
    const b =
      "workerd/jsg/util.c++:405: error: e = kj/compat/http.c++:4191: failed; wdErrId = 538kkcvb0drjhfuf4koanft9";
    expect(logKind(a)).toBe(logKind(b));
    expect(logKind("actorId = a17de13fd10a123f7db3619d3680484f; at 1796585560.323s")).toBe("actorId = <id>; at Ns");
  });
});

describe("LogTally", () => {
  it("shows the first line of each kind, counts every one, and drops stack lines", () => {
    const shown: string[] = [];
    const tally = new LogTally((line) => shown.push(line));
    tally.sink("error: broken pipe on fd 12");
    tally.sink("stack: /bin/workerd@51faac1 /bin/workerd@51fb771");
    tally.sink("error: broken pipe on fd 13");
    tally.sink("warning: alarm failed");
    expect(shown).toHaveLength(2);
    expect(Object.values(tally.counts)).toEqual([2, 1]);
  });
});
