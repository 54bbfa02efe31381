import { describe, expect, it } from "vitest";
import { groupBody, groupsCsv, rowBody, rowsCsv, totalsBody } from "./usage-format.js";
import type { UsageRow } from "./usage-report.js";
import type { UsageGroup } from "./usage-sums.js";

const group: UsageGroup = {
  group: "=cmd",
  requests: 4n,
  prompt_tokens: 40n,
  completion_tokens: 20n,
  total_tokens: 60n,
  cost: 105n,
  node_amount: 100n,
  billable_requests: 3n,
  estimated_requests: 1n,
};

const row: UsageRow = {
  request_id: "req_1",
  created: Date.UTC(2026, 3, 1, 12),
  key_id: "key_a",
  node_id: "node_1",
  model: "m,1",
  prompt_tokens: 3,
  completion_tokens: 4,
  total_tokens: 7,
  cost: 9,
  node_amount: 8,
  billable: true,
  estimated: false,
  receipt_status: "ok",
  latency_ms: 12,
  status: 200,
  streamed: true,
};

describe("usage as clients and operators see it", () => {
  it("shows clients their cost and counts, never what the node is owed", () => {
    expect(totalsBody(group, "client")).toEqual({
      requests: 4n,
      prompt_tokens: 40n,
      completion_tokens: 20n,
      total_tokens: 60n,
      cost: 105n,
      estimated_requests: 1n,
      non_billable_requests: 1n,
    });
    expect(totalsBody(group, "admin").node_amount).toBe(100n);
    expect(rowBody(row)).not.toHaveProperty("node_amount");
    expect(rowBody(row)).toMatchObject({
      created: "2026-04-01T12:00:00.000Z",
      cost: 9,
      billable: true,
      estimated: false,
      receipt_status: "ok",
    });
  });

  it("names each group by its grouping's field", () => {
    expect(groupBody("model", group, "client")).toMatchObject({ model: "=cmd", requests: 4n });
    expect(groupBody("node", group, "client")).toMatchObject({ node_id: "=cmd" });
    expect(groupBody("day", group, "client")).toMatchObject({ day: "=cmd" });
    expect(groupBody("key", group, "admin", new Map([["=cmd", "ci"]]))).toMatchObject({
      key_id: "=cmd",
      name: "ci",
      node_amount: 100n,
    });
  });

  it("writes the same fields as CSV, defused and quoted", () => {
    expect(groupsCsv("model", [group], "client")).toBe(
      "model,requests,prompt_tokens,completion_tokens,total_tokens,cost,estimated_requests,non_billable_requests\r\n'=cmd,4,40,20,60,105,1,1\r\n",
    );
    expect(groupsCsv("key", [group], "admin", new Map([["=cmd", "a, b"]])).split("\r\n")[0]).toBe(
      "key_id,name,requests,prompt_tokens,completion_tokens,total_tokens,cost,node_amount,estimated_requests,non_billable_requests",
    );
    const huge = { ...group, cost: 2n ** 64n + 1n, node_amount: 2n ** 53n + 1n };
    expect(groupsCsv("model", [huge], "admin").split("\r\n")[1]).toBe(
      "'=cmd,4,40,20,60,18446744073709551617,9007199254740993,1,1",
    );
    const [header, line] = rowsCsv([row]).split("\r\n");
    expect(header).toBe(
      "request_id,created,key_id,node_id,model,prompt_tokens,completion_tokens,total_tokens,latency_ms,status,streamed,cost,billable,estimated,receipt_status",
    );
    expect(line).toBe('req_1,2026-04-01T12:00:00.000Z,key_a,node_1,"m,1",3,4,7,12,200,true,9,true,false,ok');
  });
});
