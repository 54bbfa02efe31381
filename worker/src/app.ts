// Every route of the gateway, and the stages around them.
import { Router, type IRequest } from "itty-router";
import { errorResponse, HttpError } from "./http/http-error.js";
import { withRequestId, withRequestIdHeader } from "./http/request-id.js";
import { openApiRoute } from "./openapi/route.js";
import { createKeyRoute, listKeysRoute, revokeKeyRoute, updateKeyRoute } from "./routes/admin-keys.js";
import { banNodeRoute, listAdminNodesRoute, unbanNodeRoute } from "./routes/admin-nodes.js";
import { heartbeatRoute } from "./routes/heartbeat.js";
import { CHAT, COMPLETIONS, EMBEDDINGS, inferenceRoute, responsesRoute } from "./routes/inference.js";
import { meshStatusRoute } from "./routes/mesh-status.js";
import { getModelRoute, listModelsRoute } from "./routes/models.js";
import { nodeConnectRoute } from "./routes/node-connect.js";
import { PAGE_PATHS, pageRoute } from "./routes/pages.js";
import { rotateKeyRoute } from "./routes/node-keys.js";
import { listNodesRoute } from "./routes/nodes.js";
import { rootRoute } from "./routes/root.js";
import {
  abortSettlementRoute,
  closeSettlementRoute,
  getSettlementRoute,
  listSettlementsRoute,
  settlementProofRoute,
} from "./routes/settlements.js";
import { storedResponsesRoute } from "./routes/unsupported.js";
import { adminUsageRoute, usageRoute } from "./routes/usage.js";
import { wellKnownRoute } from "./routes/well-known.js";

/** `x-meshgate-node` names the node that answered; "none" where no node did (errors, gateway-only routes). */
function withNodeHeader(response: Response): Response {
  if (response.webSocket) return response;
  if (!response.headers.has("x-meshgate-node")) response.headers.set("x-meshgate-node", "none");
  return response;
}

export const router = Router<IRequest, [Env, ExecutionContext], Response>({
  before: [withRequestId],
  catch: errorResponse,
  finally: [withRequestIdHeader, withNodeHeader],
});

router.get("/", rootRoute);
// The web pages (worker/public, served from the assets): not API, so the OpenAPI description leaves them out.
for (const path of PAGE_PATHS) router.get(path, pageRoute);
router
  .post("/v1/chat/completions", inferenceRoute(CHAT))
  .post("/v1/completions", inferenceRoute(COMPLETIONS))
  .post("/v1/embeddings", inferenceRoute(EMBEDDINGS))
  .post("/v1/responses", responsesRoute)
  .get("/v1/models", listModelsRoute)
  .get("/v1/models/:id+", getModelRoute)
  .get("/v1/mesh/status", meshStatusRoute)
  .get("/v1/usage", usageRoute)
  .get("/v1/settlements", listSettlementsRoute)
  .get("/v1/settlements/:id", getSettlementRoute)
  .get("/v1/settlements/:id/proof", settlementProofRoute)
  .get("/v1/nodes", listNodesRoute)
  .post("/v1/nodes/heartbeat", heartbeatRoute)
  .get("/v1/nodes/connect/:id", nodeConnectRoute)
  .post("/v1/nodes/rotate-key", rotateKeyRoute)
  .get("/.well-known/meshgate.json", wellKnownRoute)
  .get("/openapi.json", openApiRoute)
  .post("/admin/keys", createKeyRoute)
  .get("/admin/keys", listKeysRoute)
  .patch("/admin/keys/:id", updateKeyRoute)
  .delete("/admin/keys/:id", revokeKeyRoute)
  .get("/admin/usage", adminUsageRoute)
  .get("/admin/nodes", listAdminNodesRoute)
  .post("/admin/nodes/:id/ban", banNodeRoute)
  .post("/admin/nodes/:id/unban", unbanNodeRoute)
  .post("/admin/settlements", closeSettlementRoute)
  .post("/admin/settlements/:id/abort", abortSettlementRoute)
  .get("/v1/responses", storedResponsesRoute)
  .all("/v1/responses/*", storedResponsesRoute)
  .all("*", (request: IRequest) => {
    throw new HttpError(404, `Invalid URL (${request.method} ${new URL(request.url).pathname})`, {
      code: "unknown_url",
    });
  });
