// The catalog screens' shared reads: the categories (one small list) and the warehouses in the
// caller's scope (every page of them), cached briefly and refreshed after a change.

import { useQuery } from "@tanstack/react-query";
import { warehouse } from "../../api/client";
import type { Warehouse } from "../../gen/crm/warehouse/v1/warehouse_pb.js";

export function useCategories() {
  return useQuery({
    queryKey: ["productCategories"],
    queryFn: ({ signal }) => warehouse.listCategories({}, { signal }),
    staleTime: 60_000,
  });
}

async function everyWarehouse(signal: AbortSignal): Promise<Warehouse[]> {
  const all: Warehouse[] = [];
  let pageToken = "";
  do {
    const page = await warehouse.listWarehouses({ pageSize: 200, pageToken }, { signal });
    all.push(...page.warehouses);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}

/** The warehouses in scope, by code (as the service sends them). */
export function useWarehouses(enabled = true) {
  return useQuery({
    queryKey: ["warehouses"],
    queryFn: ({ signal }) => everyWarehouse(signal),
    staleTime: 60_000,
    enabled,
  });
}
