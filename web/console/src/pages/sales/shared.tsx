// Pieces the sales screens share: money shown for the locale, form violations put on their
// fields, a record's change history, and the opportunity/stage names of a pipeline.

import { Button, Table, Tag, type FormInstance } from "antd";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { RecordChange } from "../../gen/crm/common/v1/common_pb.js";
import { sales } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { formatMoney, formatTime, type Language } from "../../i18n/locale";
import { formField } from "./mask";

/** An amount for the locale, or empty. */
export function money(language: Language, m: { currencyCode: string; amount: string } | undefined): string {
  return m && m.amount && m.currencyCode ? formatMoney(language, m.amount, m.currencyCode) : "";
}

/** A timestamp for the locale, or empty. */
export function when(language: Language, t: Timestamp | undefined): string {
  return t ? formatTime(language, timestampDate(t)) : "";
}

/** Puts each violation on its form field (those the form has); the problem for the notice. */
export function showViolations(form: FormInstance, error: unknown, prefix: string, fields: readonly string[]): Problem {
  const problem = problemFromError(error);
  const byField = new Map<string, string[]>();
  for (const v of problem.violations) {
    const name = formField(v.field, prefix);
    if (fields.includes(name)) byField.set(name, [...(byField.get(name) ?? []), v.description]);
  }
  form.setFields([...byField].map(([name, errors]) => ({ name, errors })));
  return problem;
}

/** Every pipeline with its stages (the default first), cached. */
export function usePipelines() {
  return useQuery({
    queryKey: ["pipelines"],
    queryFn: ({ signal }) => sales.listPipelines({}, { signal }),
    staleTime: 60_000,
  });
}

/** Stage id → name over every pipeline. */
export function useStageNames(): Map<string, string> {
  const { data } = usePipelines();
  const names = new Map<string, string>();
  for (const p of data?.pipelines ?? []) for (const s of p.stages) names.set(s.id, s.name);
  return names;
}

type Page = { changes: RecordChange[]; nextPageToken: string };

/** A record's changes, newest first: who, when, what from what to what; paged. */
export function ChangeHistory({
  queryKey,
  load,
}: {
  queryKey: readonly unknown[];
  load: (pageToken: string, signal: AbortSignal) => Promise<Page>;
}) {
  const { t, language } = useI18n();
  const changes = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) => load(pageParam, signal),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const rows = changes.data?.pages.flatMap((p) => p.changes) ?? [];
  return (
    <>
      <ErrorNotice problem={changes.error ? problemFromError(changes.error) : null} />
      <Table
        rowKey="id"
        size="small"
        loading={changes.isFetching}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t("sales.changes.empty") }}
        columns={[
          { title: t("sales.changes.time"), key: "time", render: (_, c) => when(language, c.changeTime) },
          { title: t("sales.changes.by"), key: "by", render: (_, c) => <EmployeeName id={c.changedBy} /> },
          { title: t("sales.changes.action"), key: "action", render: (_, c) => <Tag>{c.action}</Tag> },
          {
            title: t("sales.changes.fields"),
            key: "fields",
            render: (_, c) => (
              <ul style={{ margin: 0, paddingInlineStart: 16 }}>
                {c.fields.map((f) => (
                  <li key={f.field}>
                    {t("sales.changes.field", { field: f.field, from: f.oldValue || "—", to: f.newValue || "—" })}
                  </li>
                ))}
              </ul>
            ),
          },
        ]}
      />
      {changes.hasNextPage && (
        <Button onClick={() => void changes.fetchNextPage()} loading={changes.isFetchingNextPage} style={{ marginTop: 8 }}>
          {t("common.more")}
        </Button>
      )}
    </>
  );
}

/** `<input type="datetime-local">`'s value of a time (local), and back. */
export function localInput(at: Date | undefined): string {
  if (!at) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

export function fromLocalInput(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** A fresh idempotency key. */
export function requestId(): string {
  return crypto.randomUUID();
}

/**
 * A rule that a choice was made, for Selects: unlike `required`, it does not put
 * `aria-required` on the Select's wrapper (an attribute its role does not allow).
 */
export function chosen(message: string) {
  return {
    validator: (_: unknown, value: unknown) =>
      value === undefined || value === null || value === "" ? Promise.reject(new Error(message)) : Promise.resolve(),
  };
}
