// Downloading the current search as CSV: the gateway's REST export, called with the session's
// bearer token and saved through a Blob (a plain link would carry no token).

import { restFetch, saveFile } from "../../api/rest";

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
export async function downloadCustomers(query: string): Promise<void> {
  const response = await restFetch(exportUrl(query));
  saveFile(await response.blob(), fileNameOf(response.headers.get("content-disposition")));
}
