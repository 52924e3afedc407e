// Project documents over the gateway's REST routes: the upload (the file as the body, its
// name, type and SHA-256 in the query, the size declared by the gateway from Content-Length)
// and the download (the body is the file), both with the session's bearer token.

import { restFetch, saveFile, sha256Hex } from "../../api/rest";

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

/** Uploads `file` to the project; resolves when the service has stored it whole. */
export async function uploadDocument(projectId: string, file: File, description: string): Promise<void> {
  const bytes = await file.arrayBuffer();
  const digest = await sha256Hex(bytes);
  await restFetch(uploadPath(projectId, file, digest, crypto.randomUUID(), description), {
    method: "POST",
    headers: { "content-type": file.type || "application/octet-stream" },
    body: bytes,
  });
}

/** Downloads a document as a Blob and hands it to the browser as a file named `fileName`. */
export async function downloadDocument(id: string, fileName: string): Promise<void> {
  const response = await restFetch(`/v1/projectDocuments/${encodeURIComponent(id)}:download`);
  saveFile(await response.blob(), fileName);
}
