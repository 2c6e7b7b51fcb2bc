// Turning every accepted kind of content into bytes or a stream of bytes.

import type { WriteData } from "./options.ts";

const encoder = new TextEncoder();

/** The bytes of content that is already in memory, without copying; `undefined` for streams. */
export function bytesOf(data: unknown): Uint8Array | undefined {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer) {
    return new Uint8Array(data);
  }
  return undefined;
}

/** One chunk of a stream: a string or bytes. */
export function chunkBytes(chunk: unknown): Uint8Array {
  const bytes = typeof chunk === "string" || ArrayBuffer.isView(chunk) ? bytesOf(chunk) : undefined;
  if (bytes === undefined) {
    throw new TypeError(
      `Invalid chunk: expected a string or a Uint8Array, got ${
        chunk === null ? "null" : typeof chunk
      }`,
    );
  }
  return bytes;
}

/** A pull source over streamed content; `close` releases it when the write stops early. */
export interface ChunkSource {
  next(): Promise<Uint8Array | undefined>;
  close(reason: unknown): Promise<void>;
}

function isReadableStream(data: object): data is ReadableStream<Uint8Array> {
  return typeof (data as ReadableStream).getReader === "function";
}

function isBlob(data: object): data is Blob {
  return typeof Blob === "function" && data instanceof Blob;
}

/**
 * A pull source over streamed content, or a `TypeError` when `data` is none
 * of the accepted kinds. Called before any I/O.
 */
export function sourceOf(data: WriteData): ChunkSource {
  if (typeof data === "object" && data !== null) {
    if (isBlob(data)) return streamSource(data.stream());
    if (isReadableStream(data)) return streamSource(data);
    const asyncIterator = (data as AsyncIterable<unknown>)[Symbol.asyncIterator];
    if (typeof asyncIterator === "function") return iteratorSource(asyncIterator.call(data));
    const iterator = (data as Iterable<unknown>)[Symbol.iterator];
    if (typeof iterator === "function") return iteratorSource(iterator.call(data));
  }
  throw new TypeError(
    "Invalid data: expected a string, an ArrayBufferView, an ArrayBuffer, a Blob, a ReadableStream " +
      `or an (async) iterable of strings and Uint8Arrays, got ${
        data === null ? "null" : typeof data
      }`,
  );
}

function streamSource(stream: ReadableStream<Uint8Array>): ChunkSource {
  const reader = stream.getReader();
  return {
    async next() {
      const { done, value } = await reader.read();
      return done ? undefined : chunkBytes(value);
    },
    async close(reason) {
      await reader.cancel(reason).catch(() => {});
      reader.releaseLock();
    },
  };
}

function iteratorSource(iterator: Iterator<unknown> | AsyncIterator<unknown>): ChunkSource {
  return {
    async next() {
      const { done, value } = await iterator.next();
      return done ? undefined : chunkBytes(value);
    },
    async close() {
      await iterator.return?.();
    },
  };
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
