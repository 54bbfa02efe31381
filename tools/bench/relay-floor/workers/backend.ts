// What every relay variant starts from: the client's request sent on to the backend, its answer as fetched.
export function fetchBackend(request: Request, backendUrl: string): Promise<Response> {
  const url = new URL(request.url);
  return fetch(new Request(new URL(url.pathname + url.search, backendUrl), request));
}
