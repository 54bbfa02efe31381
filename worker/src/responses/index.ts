// The Responses API's translation, for the request path: a Responses request becomes the Chat Completions body a
// node serves (chatRequestFrom), and the node's answer becomes a Response (responseFromChat) or OpenAI's Responses
// event stream (chatToResponsesStream; ResponsesEventStream underneath, for a caller that parses chunks itself).
export { chatRequestFrom, type ChatRequestBody } from "./chat-request.js";
export { ResponsesEventStream, type StreamError } from "./event-stream.js";
export { responseFromChat } from "./response-object.js";
export type { ResponseIds } from "./response-shell.js";
export { chatToResponsesStream, encodeEvent } from "./sse.js";
