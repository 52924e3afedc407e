// Project documents over the gateway's REST routes: the upload (the file as the body, its
// name, type and SHA-256 in the query, the size declared by the gateway from Content-Length)
// and the download (the body is the file), both with the session's bearer token.

import type { JsonValue } from "@bufbuild/protobuf";
import { problemOf } from "../../api/problem";
import { session } from "../../api/session";

/** SHA-256 of the bytes, lower-case hex. */
export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The upload's address: the document's fields and the declaration as query parameters. */
export function uploadPath(
  projectId: string,
  file: { name: string; type: string },
  sha256: string,
  requestId: string,
  description = "",
): string {
  const query = new URLSearchParams();
  // No folders in the name: only what follows the last slash.
  query.set("document.fileName", file.name.split(/[\\/]/).pop() ?? file.name);
  if (file.type) query.set("document.contentType", file.type);
  if (description.trim()) query.set("document.description", description.trim());
  query.set("declared.sha256", sha256);
  query.set("requestId", requestId);
  return `/v1/projects/${encodeURIComponent(projectId)}/documents?${query}`;
}

function bearer(): Record<string, string> {
  const s = session();
  return s ? { authorization: `Bearer ${s.accessToken}` } : {};
}

async function refusal(response: Response): Promise<never> {
  const text = await response.text();
  let body: JsonValue = {};
  try {
    body = text ? (JSON.parse(text) as JsonValue) : {};
  } catch {
    body = { error: { message: text || `HTTP ${response.status}` } };
  }
  throw problemOf(response.status, body);
}

/** Uploads `file` to the project; resolves when the service has stored it whole. */
export async function uploadDocument(projectId: string, file: File, description: string): Promise<void> {
  const bytes = await file.arrayBuffer();
  const digest = await sha256Hex(bytes);
  const response = await fetch(uploadPath(projectId, file, digest, crypto.randomUUID(), description), {
    method: "POST",
    headers: { ...bearer(), "content-type": file.type || "application/octet-stream" },
    body: bytes,
  });
  if (!response.ok) await refusal(response);
}

/** Downloads a document as a Blob and hands it to the browser as a file named `fileName`. */
export async function downloadDocument(id: string, fileName: string): Promise<void> {
  const response = await fetch(`/v1/projectDocuments/${encodeURIComponent(id)}:download`, { headers: bearer() });
  if (!response.ok) await refusal(response);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
