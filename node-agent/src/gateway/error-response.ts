// Turns a failed gateway response into its error code and a short log-friendly description, using OpenAI's error
// shape when present.
const MAX_ERROR_BODY = 16 * 1024;

interface ErrorShape {
  error?: { message?: unknown; code?: unknown };
}

export interface GatewayError {
  status: number;
  code: string | null;
  description: string;
}

export async function readErrorResponse(res: Response): Promise<GatewayError> {
  let text = "";
  try {
    text = (await res.text()).slice(0, MAX_ERROR_BODY);
    const body = JSON.parse(text) as ErrorShape;
    const message = typeof body.error?.message === "string" ? body.error.message : null;
    const code = typeof body.error?.code === "string" ? body.error.code : null;
    if (message) return { status: res.status, code, description: `${res.status}${code ? ` ${code}` : ""}: ${message}` };
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return { status: res.status, code: null, description: `${res.status}${text ? `: ${text.slice(0, 200)}` : ""}` };
}

export async function describeErrorResponse(res: Response): Promise<string> {
  return (await readErrorResponse(res)).description;
}
