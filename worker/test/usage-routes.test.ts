import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { UsageGroupReport, UsageReport } from "@meshgate/schemas";
import { UsageGroupReportSchema, UsageReportSchema } from "@meshgate/schemas";
import { adminFetch, BASE, clientFetch, createApiKey, errorBody } from "./helpers.js";
import { billable, day, entry, NODE_A, NODE_B } from "./usage-entries.js";
import { writeAhead } from "./write-ahead.js";

const seconds = (ms: number) => Math.floor(ms / 1000);

/** A key with usage on three days; models named per test, so tests sharing storage don't mix in the admin report. */
async function keyWithUsage(name: string, tag: string) {
  const key = await createApiKey(name);
  const entries = [
    billable(`${tag}-1`, 100, {
      key_id: key.id,
      created: day(-3, 10),
      model: `${tag}-m1`,
      node_id: NODE_A,
      node_amount: 95,
    }),
    billable(`${tag}-2`, 200, {
      key_id: key.id,
      created: day(-2, 10),
      model: `${tag}-m2`,
      node_id: NODE_B,
      node_amount: 190,
    }),
    entry(`${tag}-3`, {
      key_id: key.id,
      created: day(-2, 11),
      model: `${tag}-m1`,
      node_id: NODE_B,
      estimated: true,
      receipt_status: "estimated",
    }),
    entry(`${tag}-4`, {
      key_id: key.id,
      created: day(-1, 23),
      model: `${tag}-m1`,
      node_id: NODE_A,
      receipt_status: "incomplete",
    }),
  ];
  await writeAhead(entries);
  return { ...key, entries };
}

describe("GET /v1/usage", () => {
  it(
    "reports the key's totals with cost, and its newest rows with cost, billing state and no node " + "amount",
    async () => {
      const { key } = await keyWithUsage("usage-json", "json");
      const res = await clientFetch("/v1/usage", key);
      expect(res.status).toBe(200);
      const body = UsageReportSchema.parse(await res.json()) satisfies UsageReport;
      expect(body.totals).toEqual({
        requests: 4,
        prompt_tokens: 12,
        completion_tokens: 16,
        total_tokens: 28,
        cost: 300,
        estimated_requests: 1,
        non_billable_requests: 2,
      });
      expect(body.data.map((r) => r.request_id)).toEqual(["json-4", "json-3", "json-2", "json-1"]);
      expect(body.data[2]).toMatchObject({
        cost: 200,
        billable: true,
        estimated: false,
        receipt_status: "ok",
        created: new Date(day(-2, 10)).toISOString(),
      });
      expect(body.data[1]).toMatchObject({ cost: 0, billable: false, estimated: true, receipt_status: "estimated" });
      expect(JSON.stringify(body)).not.toContain("node_amount");
      const limited = UsageReportSchema.parse(
        await (await clientFetch(`/v1/usage?limit=1&from=${seconds(day(-2))}`, key)).json(),
      );
      expect(limited).toMatchObject({ totals: { requests: 3 }, has_more: true });
      expect(limited.data.map((r) => r.request_id)).toEqual(["json-4"]);
    },
  );

  it("groups by model, node or day", async () => {
    const { key } = await keyWithUsage("usage-groups", "grp");
    const grouped = async (by: string) =>
      UsageGroupReportSchema.parse(
        await (await clientFetch(`/v1/usage?group_by=${by}`, key)).json(),
      ) satisfies UsageGroupReport;
    const byModel = await grouped("model");
    expect(byModel.group_by).toBe("model");
    expect(byModel.data).toEqual([
      {
        model: "grp-m1",
        requests: 3,
        prompt_tokens: 9,
        completion_tokens: 12,
        total_tokens: 21,
        cost: 100,
        estimated_requests: 1,
        non_billable_requests: 2,
      },
      {
        model: "grp-m2",
        requests: 1,
        prompt_tokens: 3,
        completion_tokens: 4,
        total_tokens: 7,
        cost: 200,
        estimated_requests: 0,
        non_billable_requests: 0,
      },
    ]);
    expect(byModel.totals).toMatchObject({ requests: 4, cost: 300 });
    expect((await grouped("node")).data.map((g) => [g.node_id, g.requests])).toEqual([
      [NODE_A, 2],
      [NODE_B, 2],
    ]);
    const days = [day(-3), day(-2), day(-1)].map((d) => new Date(d).toISOString().slice(0, 10));
    expect((await grouped("day")).data.map((g) => [g.day, g.requests, g.cost])).toEqual([
      [days[0], 1, 100],
      [days[1], 2, 200],
      [days[2], 1, 0],
    ]);
  });

  it("serves CSV: a download, CRLF, defused model names", async () => {
    const { id, key } = await createApiKey("usage-csv");
    await writeAhead([entry("csv-1", { key_id: id, created: day(-1, 3), model: '=HYPERLINK("http://x","click")' })]);
    const rows = await clientFetch("/v1/usage?format=csv", key);
    expect(rows.status).toBe(200);
    expect(rows.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(rows.headers.get("content-disposition")).toMatch(/^attachment; filename="usage-19700101-\d{8}\.csv"$/);
    const text = await rows.text();
    const lines = text.split("\r\n");
    expect(lines[0]).toBe(
      "request_id,created,key_id,node_id,model,prompt_tokens,completion_tokens,total_tokens,latency_ms,status,streamed,cost,billable,estimated,receipt_status",
    );
    expect(lines[1]).toBe(
      `csv-1,${new Date(day(-1, 3)).toISOString()},${id},${NODE_A},"'=HYPERLINK(""http://x"",""click"")",3,4,7,13,200,true,0,false,false,missing`,
    );
    expect(lines[2]).toBe("");
    const grouped = await (await clientFetch("/v1/usage?format=csv&group_by=model", key)).text();
    expect(grouped).toBe(
      `model,requests,prompt_tokens,completion_tokens,total_tokens,cost,estimated_requests,non_billable_requests\r\n"'=HYPERLINK(""http://x"",""click"")",1,3,4,7,0,0,1\r\n`,
    );
  });

  it("refuses bad parameters, naming them", async () => {
    const { key } = await createApiKey("usage-bad");
    for (const [query, param] of [
      ["group_by=key", "group_by"],
      ["group_by=", null],
      ["format=xml", "format"],
      ["limit=0", "limit"],
      ["from=2000&to=1000", "to"],
      ["to=%2B275760-09-13T00:00:00Z&format=csv", "to"],
    ] as const) {
      const res = await clientFetch(`/v1/usage?${query}`, key);
      if (param === null) {
        expect(res.status, query).toBe(200);
        continue;
      }
      expect(res.status, query).toBe(400);
      expect((await errorBody(res)).param, query).toBe(param);
    }
  });

  it(
    "answers old ranges from daily totals when they are whole days, and explains the retention " + "otherwise",
    async () => {
      const { id, key } = await createApiKey("usage-old");
      await writeAhead([entry("old-1", { key_id: id, created: day(-200, 5) })]);
      const whole = await clientFetch(`/v1/usage?from=${seconds(day(-201))}&to=${seconds(day(-199))}`, key);
      expect(whole.status).toBe(200);
      expect(UsageReportSchema.parse(await whole.json()).totals.requests).toBe(1);
      const partial = await clientFetch(`/v1/usage?from=${seconds(day(-200, 1))}&to=${seconds(day(-199))}`, key);
      expect(partial.status).toBe(400);
      const err = await errorBody(partial);
      expect(err).toMatchObject({ param: "from", code: "outside_retention" });
      expect(err.message).toContain("kept for 90 days");
    },
  );
});

describe("GET /admin/usage", () => {
  it("sums every key's usage by key, with names and what nodes are owed", async () => {
    const a = await keyWithUsage("admin-a", "adm-a");
    const b = await keyWithUsage("admin-b", "adm-b");
    const res = await adminFetch("/admin/usage?group_by=key");
    expect(res.status).toBe(200);
    const body = UsageGroupReportSchema.parse(await res.json());
    const mine = body.data.filter((g) => g.key_id === a.id || g.key_id === b.id);
    expect(mine).toHaveLength(2);
    expect(mine.find((g) => g.key_id === a.id)).toEqual({
      key_id: a.id,
      name: "admin-a",
      requests: 4,
      prompt_tokens: 12,
      completion_tokens: 16,
      total_tokens: 28,
      cost: 300,
      node_amount: 285,
      estimated_requests: 1,
      non_billable_requests: 2,
    });
    expect(body.totals.requests).toBe(body.data.reduce((n, g) => n + g.requests, 0));
    // By key is the default.
    expect(UsageGroupReportSchema.parse(await (await adminFetch("/admin/usage")).json()).group_by).toBe("key");
  });

  it("merges groups across keys exactly, by model, node or day, as JSON or CSV", async () => {
    const keys = await Promise.all([0, 1, 2].map((i) => createApiKey(`merge-${i}`)));
    await Promise.all(
      keys.map((k, i) =>
        writeAhead([
          billable(`merge-${i}`, 1_000_001 * (i + 1), {
            key_id: k.id,
            created: day(-1, 2),
            model: "merge-model",
            node_amount: 999_999,
          }),
        ]),
      ),
    );
    const body = UsageGroupReportSchema.parse(
      await (await adminFetch(`/admin/usage?group_by=model&from=${seconds(day(-1))}&to=${seconds(day(0))}`)).json(),
    );
    expect(body.data.find((g) => g.model === "merge-model")).toMatchObject({
      requests: 3,
      cost: 6_000_006,
      node_amount: 2_999_997,
    });
    const csv = await adminFetch(
      `/admin/usage?group_by=model&format=csv&from=${seconds(day(-1))}&to=${seconds(day(0))}`,
    );
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toBe(
      "model,requests,prompt_tokens,completion_tokens,total_tokens,cost,node_amount,estimated_requests,non_billable_requests",
    );
    expect(text).toContain("\r\nmerge-model,3,9,12,21,6000006,2999997,0,0\r\n");
  });

  it("requires the admin token and refuses a bad grouping", async () => {
    const { key } = await createApiKey("not-admin");
    expect((await SELF.fetch(`${BASE}/admin/usage`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    const bad = await adminFetch("/admin/usage?group_by=region");
    expect(bad.status).toBe(400);
    expect((await errorBody(bad)).param).toBe("group_by");
  });
});

describe("usage reports after rows with counts near 2^53", () => {
  // What a node's 4xx body once got recorded: 1 prompt token, 2^53 - 2 completion tokens. Two of them and a plain row
  // sum past what a double holds exactly; the reports must answer 200 with the exact figures, in JSON and CSV, for the
  // whole history (daily roll-ups, kept for good) and for a range inside the day (rows).
  const HUGE = Number.MAX_SAFE_INTEGER - 1;
  const total = (n: number) => 2n * BigInt(Number.MAX_SAFE_INTEGER) + BigInt(n);

  async function keyWithHugeRows(tag: string) {
    const key = await createApiKey(`huge-${tag}`);
    const huge = (i: number) =>
      billable(`${tag}-huge-${i}`, HUGE, {
        key_id: key.id,
        created: day(-1, 10 + i),
        model: `${tag}-model`,
        prompt_tokens: 1,
        completion_tokens: HUGE,
        total_tokens: HUGE + 1,
        node_amount: HUGE,
      });
    const plain = billable(`${tag}-plain`, 5, { key_id: key.id, created: day(-1, 12), model: `${tag}-model` });
    await writeAhead([huge(1), huge(2), plain]);
    return key;
  }

  it(
    "GET /v1/usage answers 200 with exact totals, over the whole history, a day, a range inside the day, grouped " +
      "and as CSV",
    async () => {
      const { key } = await keyWithHugeRows("v1");
      const queries = [
        "",
        `?from=${seconds(day(-1))}&to=${seconds(day(0))}`,
        `?from=${seconds(day(-1, 1))}&to=${seconds(day(-1, 23))}`,
        "?group_by=day",
        "?group_by=model&limit=1",
      ];
      for (const query of queries) {
        const res = await clientFetch(`/v1/usage${query}`, key);
        expect(res.status, query).toBe(200);
        const text = await res.text();
        // Exact integer literals: JSON.parse would round them, so the text is checked.
        expect(text, query).toContain(
          `"totals":{"requests":3,"prompt_tokens":5,"completion_tokens":${total(2)},"total_tokens":${total(7)},"cost":${total(3)},`,
        );
        expect(text, query).not.toContain("node_amount");
      }
      const rows = await (await clientFetch("/v1/usage", key)).text();
      expect(rows).toContain(`"completion_tokens":${HUGE},"total_tokens":${HUGE + 1}`);
      const csv = await (
        await clientFetch(`/v1/usage?group_by=day&format=csv&from=${seconds(day(-1, 1))}&to=${seconds(day(0))}`, key)
      ).text();
      expect(csv.split("\r\n")[1]).toBe(
        `${new Date(day(-1)).toISOString().slice(0, 10)},3,5,${total(2)},${total(7)},${total(3)},0,0`,
      );
    },
  );

  it("GET /admin/usage answers 200 with exact figures by key and by model, merged across keys", async () => {
    const a = await keyWithHugeRows("adm-huge-a");
    await keyWithHugeRows("adm-huge-b");
    const byKey = await adminFetch(`/admin/usage?group_by=key&from=${seconds(day(-1, 1))}&to=${seconds(day(0))}`);
    expect(byKey.status).toBe(200);
    expect(await byKey.text()).toContain(
      `{"key_id":"${a.id}","name":"huge-adm-huge-a","requests":3,"prompt_tokens":5,"completion_tokens":${total(2)},"total_tokens":${total(7)},"cost":${total(3)},"node_amount":${total(2)},`,
    );
    const byModel = await adminFetch("/admin/usage?group_by=model");
    expect(byModel.status).toBe(200);
    expect(await byModel.text()).toContain(
      `{"model":"adm-huge-a-model","requests":3,"prompt_tokens":5,"completion_tokens":${total(2)},"total_tokens":${total(7)},`,
    );
    const csv = await (await adminFetch("/admin/usage?group_by=model&format=csv")).text();
    expect(csv).toContain(`\r\nadm-huge-b-model,3,5,${total(2)},${total(7)},${total(3)},${total(2)},0,0\r\n`);
    // The totals of every key (other tests' included) are written exactly too: digits, never an exponent.
    expect(await (await adminFetch("/admin/usage")).text()).toMatch(
      /"totals":\{"requests":\d+,"prompt_tokens":\d+,"completion_tokens":\d{17,},/,
    );
  });
});
