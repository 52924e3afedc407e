// The administration screens' shared reads: the departments and the roles (both small lists,
// cached briefly and refreshed after a change).

import { useQuery } from "@tanstack/react-query";
import { identity } from "../../api/client";

export function useDepartments() {
  return useQuery({
    queryKey: ["departments"],
    queryFn: ({ signal }) => identity.listDepartments({}, { signal }),
    staleTime: 60_000,
  });
}

export function useRoles() {
  return useQuery({
    queryKey: ["roles"],
    queryFn: ({ signal }) => identity.listRoles({}, { signal }),
    staleTime: 60_000,
  });
}
