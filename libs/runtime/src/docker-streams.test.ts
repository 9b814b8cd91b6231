// The stream parsers must not care where chunk boundaries fall: every test also feeds the same
// bytes one byte at a time.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { demux, FrameDemuxer, LineSplitter, ndjson } from "./docker-streams.js";

function frame(kind: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function bytewise(buf: Buffer): Buffer[] {
  return [...buf].map((b) => Buffer.from([b]));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

describe("LineSplitter / ndjson", () => {
  test("lines split across chunks, several per chunk, CRLF, a last line without newline", () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
    assert.deepEqual(s.push(':2}\r\n\n{"c":3}\n{"d"'), ['{"b":2}', '{"c":3}']);
    assert.deepEqual(s.push(":4}"), []);
    assert.deepEqual(s.end(), ['{"d":4}']);
  });

  test("a multi-byte character cut between chunks survives", () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('{"x":"é"}\n');
    const lines = bytewise(bytes).flatMap((b) => s.push(b));
    assert.deepEqual(lines, ['{"x":"é"}']);
  });

  test("bad lines are reported and skipped", async () => {
    const bad: string[] = [];
    const bytes = Buffer.from('{"a":1}\nnot json\n{"b":2}\n');
    const out = await collect(ndjson(from(bytewise(bytes)), (line) => bad.push(line)));
    assert.deepEqual(out, [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(bad, ["not json"]);
  });
});

describe("FrameDemuxer / demux", () => {
  const stream = Buffer.concat([frame(1, "out one\n"), frame(2, "err\n"), frame(1, ""), frame(1, "out two\n")]);

  test("frames in one chunk", () => {
    const frames = new FrameDemuxer().push(stream);
    assert.deepEqual(
      frames.map((f) => [f.stream, f.data.toString()]),
      [
        ["stdout", "out one\n"],
        ["stderr", "err\n"],
        ["stdout", ""],
        ["stdout", "out two\n"],
      ],
    );
  });

  test("frames fed byte by byte give the same payloads in order", async () => {
    const out = await collect(demux(from(bytewise(stream)), false));
    assert.equal(Buffer.concat(out).toString(), "out one\nerr\nout two\n");
  });

  test("a TTY stream passes through untouched", async () => {
    const out = await collect(demux(from([Buffer.from("raw "), Buffer.from("tty")]), true));
    assert.equal(Buffer.concat(out).toString(), "raw tty");
  });

  test("a stream that is not multiplexed after all is passed through as stdout", () => {
    const frames = new FrameDemuxer().push(Buffer.from("plain text, no headers"));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.data.toString(), "plain text, no headers");
  });
});
