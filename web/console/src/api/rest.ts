// Calls to the gateway's REST routes that gRPC-Web does not carry (uploads, downloads, CSV):
// the session's token added, a refusal thrown as a Problem in the same shape as a gRPC error's,
// and a downloaded body handed to the browser as a file.

import type { JsonValue } from "@bufbuild/protobuf";
import { problemOf } from "./problem.js";
import { session } from "./session.js";

/** The session's bearer header (none when signed out). */
export function bearer(): Record<string, string> {
  const s = session();
  return s ? { authorization: `Bearer ${s.accessToken}` } : {};
}

/** Throws the refusal `response` carries as a Problem (its JSON error, or its text). */
export async function refusal(response: Response): Promise<never> {
  const text = await response.text();
  let body: JsonValue = {};
  try {
    body = text ? (JSON.parse(text) as JsonValue) : {};
  } catch {
    body = { error: { message: text || `HTTP ${response.status}` } };
  }
  throw problemOf(response.status, body);
}

/** `fetch` of a gateway path with the session's token; a refusal is thrown as a Problem. */
export async function restFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, { ...init, headers: { ...bearer(), ...(init.headers as Record<string, string> | undefined) } });
  if (!response.ok) await refusal(response);
  return response;
}

/** Hands `blob` to the browser as a download named `fileName`. */
export function saveFile(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * SHA-256 of the bytes, lower-case hex: declared with an upload, so the service checks the file
 * arrived whole. Empty where the page has no SubtleCrypto (not a secure context): the size alone
 * is declared then.
 */
export async function sha256Hex(bytes: BufferSource): Promise<string> {
  if (!globalThis.crypto?.subtle) return "";
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
