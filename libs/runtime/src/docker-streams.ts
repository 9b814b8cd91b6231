// The two byte formats Docker streams to us, parsed incrementally because a chunk boundary can
// fall anywhere: newline-delimited JSON (events, pull progress) and the 8-byte-header frames that
// multiplex stdout and stderr of a container without a TTY (logs, exec).

/** Splits a byte stream into lines; a line may span chunks, a chunk may hold many lines. */
export class LineSplitter {
  private pending = "";
  private readonly decoder = new TextDecoder("utf-8");

  /** The complete lines in this chunk (plus what was pending); keeps the unfinished tail. */
  push(chunk: Uint8Array | string): string[] {
    // stream: true keeps a multi-byte character cut by the chunk boundary for the next call.
    this.pending += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    const parts = this.pending.split("\n");
    this.pending = parts.pop() ?? "";
    return parts.map((l) => l.replace(/\r$/, "")).filter((l) => l.length > 0);
  }

  /** What is left when the stream ends (a last line without a newline). */
  end(): string[] {
    const rest = (this.pending + this.decoder.decode()).trim();
    this.pending = "";
    return rest ? [rest] : [];
  }
}

/** Parsed JSON objects of an NDJSON stream; a line that is not JSON goes to `onBadLine` and is skipped. */
export async function* ndjson(
  stream: AsyncIterable<Uint8Array | string>,
  onBadLine: (line: string, err: unknown) => void = () => {},
): AsyncGenerator<unknown> {
  const lines = new LineSplitter();
  const parse = function* (batch: string[]) {
    for (const line of batch) {
      try {
        yield JSON.parse(line) as unknown;
      } catch (err) {
        onBadLine(line, err);
      }
    }
  };
  for await (const chunk of stream) yield* parse(lines.push(chunk));
  yield* parse(lines.end());
}

export type StreamKind = "stdin" | "stdout" | "stderr";
export interface Frame {
  stream: StreamKind;
  data: Buffer;
}

const KINDS: StreamKind[] = ["stdin", "stdout", "stderr"];

/**
 * Docker's multiplexed stream: each frame is [kind(1) 0 0 0 length(4, big endian)] + payload.
 * If the first bytes are not a valid header (a TTY container's raw stream), everything from
 * there on passes through as stdout, like docker-modem's demuxStream does.
 */
export class FrameDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  private raw = false;

  push(chunk: Buffer): Frame[] {
    if (this.raw) return chunk.length ? [{ stream: "stdout", data: chunk }] : [];
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const kind = this.buf[0]!;
      if (kind > 2 || this.buf[1] !== 0 || this.buf[2] !== 0 || this.buf[3] !== 0) {
        this.raw = true;
        frames.push({ stream: "stdout", data: this.buf });
        this.buf = Buffer.alloc(0);
        return frames;
      }
      const length = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + length) break;
      frames.push({ stream: KINDS[kind]!, data: this.buf.subarray(8, 8 + length) });
      this.buf = this.buf.subarray(8 + length);
    }
    return frames;
  }

  /** Bytes of an incomplete last frame (a stream cut mid-frame); empty normally. */
  end(): Buffer {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest.length > 8 ? rest.subarray(8) : Buffer.alloc(0);
  }
}

/** Payloads of a multiplexed stream in order, stdout and stderr interleaved as written. */
export async function* demux(stream: AsyncIterable<Buffer | string> | Iterable<Buffer>, tty: boolean): AsyncGenerator<Buffer> {
  const demuxer = new FrameDemuxer();
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (tty) {
      if (bytes.length) yield bytes;
      continue;
    }
    for (const f of demuxer.push(bytes)) if (f.data.length) yield f.data;
  }
  const rest = demuxer.end();
  if (rest.length) yield rest;
}
