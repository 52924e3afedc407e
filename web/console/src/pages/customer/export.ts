// Downloading the current search as CSV: the gateway's REST export, called with the session's
// bearer token and saved through a Blob (a plain link would carry no token).

import type { JsonValue } from "@bufbuild/protobuf";
import { problemOf } from "../../api/problem";

/** The export's address for a search (the same `query` the list uses). */
export function exportUrl(query: string, filter = ""): string {
  const params = new URLSearchParams();
  if (query) params.set("query", query);
  if (filter) params.set("filter", filter);
  const qs = params.toString();
  return `/v1/customers:export${qs ? `?${qs}` : ""}`;
}

/** The file name the gateway gives (Content-Disposition), else `customers.csv`. */
export function fileNameOf(disposition: string | null): string {
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? "");
  return m ? decodeURIComponent(m[1]) : "customers.csv";
}

/** Fetches the export and saves it; a refusal is thrown as a Problem. */
export async function downloadCustomers(query: string, token: string): Promise<void> {
  const response = await fetch(exportUrl(query), { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) {
    const text = await response.text();
    let body: JsonValue = {};
    try {
      body = text ? (JSON.parse(text) as JsonValue) : {};
    } catch {
      body = { error: { message: text } };
    }
    throw problemOf(response.status, body);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileNameOf(response.headers.get("content-disposition"));
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
