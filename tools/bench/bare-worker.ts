// The baseline Worker: the least a gateway under workerd can do, so (Meshgate − this) is what Meshgate's own logic
// costs on the same runtime. It forwards the request (method, headers, streamed body) to BACKEND_URL at the same path
// and returns the backend's response object untouched, so workerd streams it through without copying in JavaScript.
// Bundled by tools/gateway's esbuild step and served by startGateway, exactly like the real Worker.

interface BareEnv {
  BACKEND_URL: string;
}

export default {
  fetch(request: Request, env: BareEnv): Promise<Response> {
    const url = new URL(request.url);
    return fetch(new Request(new URL(url.pathname + url.search, env.BACKEND_URL), request));
  },
};
