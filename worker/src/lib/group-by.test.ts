import { describe, expect, it } from "vitest";
import { groupBy } from "./group-by.js";

describe("groupBy", () => {
  it("keeps each bucket in input order, buckets in first-seen order, under non-string keys", () => {
    const groups = groupBy([5, 2, 8, 3, 6], (n) => n % 3);
    expect([...groups]).toEqual([
      [2, [5, 2, 8]],
      [0, [3, 6]],
    ]);
  });
});
