// Turns a failed gateway response into a short log-friendly description, using OpenAI's error shape when present.
const MAX_ERROR_BODY = 16 * 1024;

interface ErrorShape {
  error?: { message?: unknown; code?: unknown };
}

export async function describeErrorResponse(res: Response): Promise<string> {
  let text = "";
  try {
    text = (await res.text()).slice(0, MAX_ERROR_BODY);
    const body = JSON.parse(text) as ErrorShape;
    const message = typeof body.error?.message === "string" ? body.error.message : null;
    const code = typeof body.error?.code === "string" ? body.error.code : null;
    if (message) return `${res.status}${code ? ` ${code}` : ""}: ${message}`;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return `${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
}
