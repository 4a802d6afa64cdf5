/** The terminal log format: one readable line per log line, one per request, from the app's redacted JSON. */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogFormatter, prettyLogStream } from "../../app/log-format";

const time = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe("the terminal log format", () => {
  it("writes a request as one line when it completes, with method, URL, status and time", () => {
    const format = createLogFormatter({ colour: false });
    const incoming = {
      level: 30,
      time,
      reqId: "req-1",
      req: { method: "GET", url: "/signin?returnUrl=/me" },
      msg: "incoming request",
    };
    expect(format(JSON.stringify(incoming))).toBeUndefined();
    const done = {
      level: 30,
      time,
      reqId: "req-1",
      res: { statusCode: 302 },
      responseTime: 4.4,
      msg: "request completed",
    };
    expect(format(JSON.stringify(done))).toBe("03:04:05.678 INFO  GET /signin?returnUrl=/me 302 4 ms");
  });

  it("shows other fields as key=value, errors by type and message, and leaves non-JSON as it came", () => {
    const format = createLogFormatter({ colour: false });
    const line = {
      level: 40,
      time,
      pid: 1,
      hostname: "h",
      reqId: "r",
      msg: "sign-in failed",
      aadsts: "AADSTS70021",
      err: { type: "ServerError", message: "no match", stack: "…" },
      note: "two words",
    };
    expect(format(JSON.stringify(line))).toBe(
      '03:04:05.678 WARN  sign-in failed  aadsts=AADSTS70021 err="ServerError: no match" note="two words"',
    );
    expect(format("not json")).toBe("not json");
  });

  it("colours the level on a terminal, and reassembles lines split across writes", async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
    const stream = prettyLogStream(out, true);
    const json = JSON.stringify({ level: 50, time, msg: "request failed" });
    stream.write(json.slice(0, 10));
    stream.write(`${json.slice(10)}\n`);
    await new Promise((resolve) => stream.end(resolve));
    expect(chunks.join("")).toBe("\u001b[90m03:04:05.678\u001b[0m \u001b[31mERROR\u001b[0m request failed\n");
  });
});
