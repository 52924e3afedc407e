// The dictionaries (level, source, industry, customer type) and the category tree the customer
// screens choose from and show codes by, each read once and cached.

import { useQuery } from "@tanstack/react-query";
import { customers } from "../../api/client";

export interface Choice {
  value: string;
  label: string;
}

export interface Catalog {
  options: Choice[];
  /** The display name of a code (the code itself when unknown, "" for none). */
  nameOf: (code: string) => string;
}

function catalogOf(options: Choice[], all: Choice[]): Catalog {
  const byCode = new Map(all.map((o) => [o.value, o.label]));
  return { options, nameOf: (code) => (code ? (byCode.get(code) ?? code) : "") };
}

/** One dictionary's enabled entries to choose from (disabled ones still named). */
export function useDictionary(dictionary: string): Catalog {
  const { data } = useQuery({
    queryKey: ["dictionary", dictionary],
    queryFn: ({ signal }) => customers.listDictionaryEntries({ dictionary, includeDisabled: true }, { signal }),
    staleTime: 5 * 60_000,
  });
  const entries = data?.entries ?? [];
  const all = entries.map((e) => ({ value: e.code, label: e.displayName }));
  return catalogOf(
    entries.filter((e) => e.enabled).map((e) => ({ value: e.code, label: e.displayName })),
    all,
  );
}

/** The category tree flattened, each shown with its parents (`Industry / Steel`). */
export function useCategories(): Catalog {
  const { data } = useQuery({
    queryKey: ["categories"],
    queryFn: ({ signal }) => customers.listCategories({}, { signal }),
    staleTime: 5 * 60_000,
  });
  const categories = data?.categories ?? [];
  const byId = new Map(categories.map((c) => [c.id, c]));
  const path = (id: string): string => {
    const names: string[] = [];
    let at = byId.get(id);
    for (let depth = 0; at && depth < 20; depth++) {
      names.unshift(at.name);
      at = at.parentId ? byId.get(at.parentId) : undefined;
    }
    return names.join(" / ");
  };
  const options = categories.map((c) => ({ value: c.id, label: path(c.id) }));
  return catalogOf(options, options);
}
