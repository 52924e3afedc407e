// The product catalog's CSV routes on the gateway: the import's upload address (the options in
// the query string, the file as the body) and the export's address for the list's search.

import { download, withQuery } from "../../api/rest";

/** `POST` target of a product import: `/v1/products:import?options.requestId=…&options.mode=…`. */
export function productImportUrl(q: { requestId: string; mode: string; sha256: string }): string {
  return withQuery("/v1/products:import", {
    "options.requestId": q.requestId,
    "options.mode": q.mode,
    "options.declared.sha256": q.sha256,
  });
}

/** The export's address for the list's search: the same query, filter and category. */
export function productExportUrl(search: { query: string; filter: string; categoryId: string }): string {
  return withQuery("/v1/products:export", { query: search.query, filter: search.filter, categoryId: search.categoryId });
}

/** Fetches the products of the search as CSV and saves it; a refusal is thrown as a Problem. */
export async function downloadProducts(search: { query: string; filter: string; categoryId: string }): Promise<void> {
  await download(productExportUrl(search), "products.csv");
}
