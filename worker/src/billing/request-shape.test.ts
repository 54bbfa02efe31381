import { describe, expect, it } from "vitest";
import { requestShape } from "./request-shape.js";

describe("requestShape", () => {
  it(
    "reads the client's cap: the largest of every field a server may honour (OpenAI's, llama.cpp's, Ollama's, " +
      "TGI's)",
    () => {
      expect(requestShape({ max_tokens: 100 }, true).cap).toBe(100);
      expect(requestShape({ max_completion_tokens: 10, max_tokens: 100 }, true).cap).toBe(100);
      expect(requestShape({ max_tokens: 10, n_predict: 5_000 }, true).cap).toBe(5_000);
      expect(requestShape({ num_predict: 70, max_new_tokens: 80 }, true).cap).toBe(80);
      expect(requestShape({}, true).cap).toBeNull();
      expect(requestShape({ max_tokens: null }, true).cap).toBeNull();
      expect(requestShape({ max_tokens: 0 }, true).cap).toBe(0);
    },
  );

  it("counts every completion: n per prompt, and a completions prompt array prompt by prompt", () => {
    expect(requestShape({}, true).choices).toBe(1);
    expect(requestShape({ n: 4 }, true).choices).toBe(4);
    expect(requestShape({ prompt: "one" }, true).choices).toBe(1);
    expect(requestShape({ prompt: [1, 2, 3] }, true).choices).toBe(1);
    expect(requestShape({ prompt: Array.from({ length: 50 }, () => "p"), n: 2 }, true).choices).toBe(100);
    expect(requestShape({ prompt: [[1, 2], [3]] }, true).choices).toBe(2);
  });

  it("notes asked-for log probabilities and media parts the body's bytes do not bound", () => {
    expect(requestShape({ logprobs: true }, true).logprobs).toBe(true);
    expect(requestShape({ logprobs: 0 }, true).logprobs).toBe(true);
    expect(requestShape({ logprobs: false }, true).logprobs).toBe(false);
    const messages = [
      {
        role: "user",
        content: [
          { type: "text", text: "what is this?" },
          { type: "image_url", image_url: { url: "https://x/y.png" } },
        ],
      },
      { role: "user", content: "plain" },
      { role: "user", content: [{ type: "input_audio", input_audio: {} }] },
    ];
    expect(requestShape({ messages }, true).mediaParts).toBe(2);
  });

  it("says an embedding request generates nothing", () => {
    expect(requestShape({ input: ["a", "b"], max_tokens: 9 }, false)).toEqual({
      generates: false,
      choices: 0,
      cap: 0,
      logprobs: false,
      tools: false,
      stopBytes: 0,
      hiddenOutput: null,
      mediaParts: 0,
    });
  });

  it(
    "reads whether tools were offered, the longest stop sequence, and a field asking for output the client will " +
      "not see",
    () => {
      expect(requestShape({ tools: [{ type: "function" }] }, true).tools).toBe(true);
      expect(requestShape({ functions: [{ name: "f" }] }, true).tools).toBe(true);
      expect(requestShape({ tools: [] }, true).tools).toBe(false);
      expect(requestShape({ stop: "é." }, true).stopBytes).toBe(3);
      expect(requestShape({ stop: ["a", "abcd", 7] }, true).stopBytes).toBe(4);
      expect(requestShape({ stop: null }, true).stopBytes).toBe(0);
      expect(requestShape({ logit_bias: { "50256": -100 } }, true).hiddenOutput).toBeNull();
      expect(requestShape({ logit_bias: { "50256": 5 } }, true).hiddenOutput).toBe("logit_bias");
      expect(requestShape({ ignore_eos: true }, true).hiddenOutput).toBe("ignore_eos");
      expect(requestShape({ min_tokens: 10 }, true).hiddenOutput).toBe("min_tokens");
      expect(requestShape({ allowed_token_ids: [1, 2] }, true).hiddenOutput).toBe("allowed_token_ids");
      expect(requestShape({ include_reasoning: false }, true).hiddenOutput).toBe("include_reasoning");
    },
  );
});
