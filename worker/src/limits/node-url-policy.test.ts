import { describe, expect, it } from "vitest";
import { checkNodeUrl, nodeUrlPolicy } from "./node-url-policy.js";

const strict = { allowPrivate: false };
const dev = { allowPrivate: true };

describe("checkNodeUrl: always refused", () => {
  it.each([
    ["not a url", "not a valid absolute URL"],
    ["/relative/path", "not a valid absolute URL"],
    ["http://[fe80::1%25eth0]/", "not a valid absolute URL"], // WHATWG URL has no IPv6 zone IDs
    ["http://[::1/", "not a valid absolute URL"],
    ["ftp://node.example.com/", 'the "ftp:" scheme'],
    ["file:///etc/passwd", 'the "file:" scheme'],
    ["ws://node.example.com/", 'the "ws:" scheme'],
    ["javascript:alert(1)", 'the "javascript:" scheme'],
    ["data:text/plain,hi", 'the "data:" scheme'],
    ["http://user@node.example.com/", "credentials"],
    ["https://user:pw@node.example.com/", "credentials"],
    ["https://:pw@node.example.com/", "credentials"],
  ])("%s", (url, reason) => {
    for (const policy of [strict, dev]) {
      const refusal = checkNodeUrl(url, policy);
      expect(refusal?.code).toBe("forbidden_node_url");
      expect(refusal?.message).toContain(reason);
    }
  });
});

describe("checkNodeUrl: public destinations", () => {
  it.each([
    "https://node.example.com",
    "https://node.example.com:8443/v1?x=1#frag",
    "HTTPS://NODE.EXAMPLE.COM/",
    "http://node.example.com./",
    "http://8.8.8.8/",
    "http://8.8.8.8:11434/",
    "http://172.32.0.1/", // just past 172.16/12
    "http://172.15.255.255/", // just before 172.16/12
    "http://100.128.0.1/", // just past 100.64/10
    "http://198.20.0.1/", // just past 198.18/15
    "http://192.0.1.1/", // just past 192.0.0/24
    "http://223.255.255.255/", // just before multicast
    "http://1.1.1.1./",
    "http://[2606:4700::1111]/",
    "http://[2606:4700:4700::1111]:8080/",
    "http://[::ffff:8.8.8.8]/", // mapped, embeds a public address
    "http://[64:ff9b::1.1.1.1]/", // NAT64, embeds a public address
    "http://[fec0::1]/", // deprecated site-local is outside the refused ranges
    "http://localhost.example.com/",
    "http://mylocal.com/",
  ])("%s", (url) => {
    expect(checkNodeUrl(url, strict)).toBeNull();
    expect(checkNodeUrl(url, dev)).toBeNull();
  });
});

describe("checkNodeUrl: non-public destinations", () => {
  it.each([
    // Local hostnames.
    ["http://localhost/", "local hostname"],
    ["http://LOCALHOST:8787/", "local hostname"],
    ["http://localhost./", "local hostname"],
    ["http://localhost../", "local hostname"],
    ["http://api.localhost/", "local hostname"],
    ["http://intranet/", "local hostname"],
    ["http://intranet./", "local hostname"],
    ["http://printer.local/", "local hostname"],
    ["http://metadata.google.internal/", "local hostname"],
    ["http://router.home.arpa/", "local hostname"],
    ["http://home.arpa/", "local hostname"],
    ["http://box.localdomain/", "local hostname"],
    // IPv4 literals, one or more per range.
    ["http://0.0.0.0/", "reserved address (0.0.0.0)"],
    ["http://0.1.2.3/", "reserved address"],
    ["http://10.0.0.1/", "private address (10.0.0.1)"],
    ["http://10.255.255.255/", "private address"],
    ["http://100.64.0.1/", "private address"],
    ["http://100.127.255.255/", "private address"],
    ["http://127.0.0.1/", "loopback address (127.0.0.1)"],
    ["http://127.1.2.3:8080/", "loopback address"],
    ["http://127.0.0.1./", "loopback address"],
    ["http://169.254.169.254/latest/meta-data/", "link-local address (169.254.169.254)"],
    ["http://172.16.0.1/", "private address"],
    ["http://172.31.255.255/", "private address"],
    ["http://192.0.0.1/", "reserved address"],
    ["http://192.168.1.1/", "private address"],
    ["http://198.18.0.1/", "reserved address"],
    ["http://198.19.255.255/", "reserved address"],
    ["http://224.0.0.1/", "multicast address"],
    ["http://239.255.255.250/", "multicast address"],
    ["http://240.0.0.1/", "reserved address"],
    ["http://255.255.255.255/", "reserved address"],
    // Other IPv4 spellings, which WHATWG URL normalises to dotted form.
    ["http://2130706433/", "loopback address (127.0.0.1)"],
    ["http://0x7f.1/", "loopback address (127.0.0.1)"],
    ["http://017700000001/", "loopback address (127.0.0.1)"],
    ["http://0x7f000001/", "loopback address (127.0.0.1)"],
    ["http://127.1/", "loopback address (127.0.0.1)"],
    ["http://0/", "reserved address (0.0.0.0)"],
    ["http://0xa9fea9fe/", "link-local address (169.254.169.254)"],
    // IPv6 literals.
    ["http://[::]/", "reserved address (::)"],
    ["http://[::1]/", "loopback address (::1)"],
    ["http://[0:0:0:0:0:0:0:1]:8080/", "loopback address (::1)"],
    ["http://[fc00::1]/", "private address"],
    ["http://[fd12:3456:789a::1]/", "private address"],
    ["http://[FE80::1]/", "link-local address (fe80::1)"],
    ["http://[febf:ffff::1]/", "link-local address"],
    ["http://[ff02::1]/", "multicast address"],
    // IPv6 addresses that embed a refused IPv4 address (WHATWG serialises the tail as hex groups).
    ["http://[::ffff:127.0.0.1]/", "loopback address (::ffff:7f00:1, which embeds 127.0.0.1)"],
    ["http://[::ffff:7f00:1]/", "loopback address"],
    ["http://[::ffff:169.254.169.254]/", "link-local address"],
    ["http://[::ffff:10.0.0.1]/", "private address"],
    ["http://[0:0:0:0:0:ffff:c0a8:101]/", "private address (::ffff:c0a8:101, which embeds 192.168.1.1)"],
    ["http://[::127.0.0.1]/", "loopback address (::7f00:1, which embeds 127.0.0.1)"],
    ["http://[::2]/", "reserved address"],
    ["http://[64:ff9b::127.0.0.1]/", "loopback address (64:ff9b::7f00:1, which embeds 127.0.0.1)"],
    ["http://[64:ff9b::a9fe:a9fe]/", "link-local address"],
  ])("%s", (url, reason) => {
    const refusal = checkNodeUrl(url, strict);
    expect(refusal?.code).toBe("forbidden_node_url");
    expect(refusal?.message).toContain(reason);
    expect(checkNodeUrl(url, dev)).toBeNull();
  });

  it("phrases the refusal as a sentence fragment", () => {
    expect(checkNodeUrl("http://127.0.0.1/", strict)).toEqual({
      code: "forbidden_node_url",
      message: "the URL points at a loopback address (127.0.0.1)",
    });
  });
});

describe("nodeUrlPolicy", () => {
  it.each([
    [{ ALLOW_PRIVATE_NODE_URLS: "true" }, true],
    [{ ALLOW_PRIVATE_NODE_URLS: "1" }, true],
    [{ ALLOW_PRIVATE_NODE_URLS: "false" }, false],
    [{ ALLOW_PRIVATE_NODE_URLS: "0" }, false],
    [{ ALLOW_PRIVATE_NODE_URLS: "" }, false],
    [{ ALLOW_PRIVATE_NODE_URLS: "yes" }, false],
    [{ ALLOW_PRIVATE_NODE_URLS: undefined }, false],
    [{}, false],
  ])("%j allows private: %s", (env, allowPrivate) => {
    expect(nodeUrlPolicy(env)).toEqual({ allowPrivate });
  });
});
