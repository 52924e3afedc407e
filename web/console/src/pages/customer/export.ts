// Downloading the current search as CSV: the gateway's REST export, called with the session's
// bearer token and saved through a Blob (a plain link would carry no token).

import { download, fileNameOf as nameOf, withQuery } from "../../api/rest";

/** The export's address for a search (the same `query` the list uses). */
export function exportUrl(query: string, filter = ""): string {
  return withQuery("/v1/customers:export", { query, filter });
}

/** The file name the gateway gives (Content-Disposition), else `customers.csv`. */
export function fileNameOf(disposition: string | null): string {
  return nameOf(disposition, "customers.csv");
}

/** Fetches the export and saves it; a refusal is thrown as a Problem. */
export async function downloadCustomers(query: string): Promise<void> {
  await download(exportUrl(query), "customers.csv");
}
