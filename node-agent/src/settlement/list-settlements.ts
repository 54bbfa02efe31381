// Fetches every closed statement whose period ends after a time, from GET /v1/settlements (newest first, paged with
// `after`). A statement is closed only after its period is over, so its `created` is at or after its `to`: once a page
// reaches statements created at or before `since`, every later one ended before it too, and the listing stops there.
import { SettlementListSchema, type SettlementStatement } from "@meshgate/schemas";
import type { z } from "zod";
import { GatewayFetchError, getJson } from "./fetch-settlement.js";

type SettlementList = z.infer<typeof SettlementListSchema>;

const PAGE = 100;
/** More statements than any gateway closes in decades (one an hour for 100 years is under 900,000). */
const MAX_STATEMENTS = 1_000_000;

export async function fetchStatementsSince(gatewayUrl: string, since: number): Promise<SettlementStatement[]> {
  const found: SettlementStatement[] = [];
  const seen = new Set<string>();
  let after: SettlementStatement | null = null;
  for (;;) {
    const cursor: string | null = after ? after.id : null;
    const url = new URL(
      `${gatewayUrl}/v1/settlements?limit=${PAGE}${cursor ? `&after=${encodeURIComponent(cursor)}` : ""}`,
    );
    const page: SettlementList = await getJson(
      url,
      SettlementListSchema,
      cursor ? `the settlements after ${cursor}` : "the list of settlements",
    );
    for (const statement of page.data) {
      // A listing out of order or going round in circles could hide statements or never end.
      if (seen.has(statement.id)) throw new GatewayFetchError(`the gateway listed settlement ${statement.id} twice`);
      if (after && statement.created > after.created)
        throw new GatewayFetchError(`the gateway listed settlement ${statement.id} out of order (newest first)`);
      seen.add(statement.id);
      after = statement;
      if (statement.created <= since) return found;
      if (statement.to > since) found.push(statement);
    }
    if (!page.has_more) return found;
    if (page.data.length === 0)
      throw new GatewayFetchError("the gateway's list of settlements says there is more but brought none");
    if (seen.size > MAX_STATEMENTS)
      throw new GatewayFetchError(`the gateway listed more than ${MAX_STATEMENTS} settlements`);
  }
}
