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

/** The file name a response's Content-Disposition gives, else `fallback`. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? "");
  return m ? decodeURIComponent(m[1]) : fallback;
}

/** `path` with the non-empty `params` as its query string. */
export function withQuery(path: string, params: Record<string, string | number | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) for (const v of value) q.append(key, v);
    else if (value !== undefined && value !== "" && value !== 0) q.set(key, String(value));
  }
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Fetches a download (a CSV export) and saves it under the name the gateway gives, else `fallback`. */
export async function download(path: string, fallback: string): Promise<void> {
  const response = await restFetch(path);
  saveFile(await response.blob(), fileNameOf(response.headers.get("content-disposition"), fallback));
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
