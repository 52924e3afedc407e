// The directory of colleagues (every role may read it): records carry employee ids, screens show
// names. One cached read of the directory serves every screen; an id the directory does not hold
// (yet) is fetched on its own.

import { useQuery } from "@tanstack/react-query";
import type { Employee } from "../gen/crm/identity/v1/identity_pb.js";
import { identity } from "./client.js";

const PAGE = 500;

/** Every employee, page by page (a directory of a few thousand names is a few pages). */
async function everyone(signal: AbortSignal): Promise<Employee[]> {
  const all: Employee[] = [];
  let pageToken = "";
  do {
    const page = await identity.listEmployees({ pageSize: PAGE, pageToken }, { signal });
    all.push(...page.employees);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}

/** The directory by id; empty while it loads. */
export function useDirectory(): Map<string, Employee> {
  const { data } = useQuery({
    queryKey: ["directory"],
    queryFn: ({ signal }) => everyone(signal),
    staleTime: 5 * 60_000,
  });
  const byId = new Map<string, Employee>();
  for (const e of data ?? []) byId.set(e.id, e);
  return byId;
}

/** An employee's display name, or the id while the directory loads (empty for no one). */
export function useEmployeeName(id: string | undefined): string {
  const directory = useDirectory();
  if (!id) return "";
  return directory.get(id)?.displayName ?? id;
}
