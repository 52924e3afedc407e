// A customer's history, newest first: who owned it (from → to by name, why, when) and which
// fields changed (old → new, who, when), each with more on demand.

import type { ReactNode } from "react";
import { Button, Space, Table, Tag, Typography } from "antd";
import { useInfiniteQuery } from "@tanstack/react-query";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { customers } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import type { CustomerChange, OwnerChange } from "../../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../../i18n";
import { formatTime } from "../../i18n/locale";
import { useCategories, useDictionary } from "./catalog";
import { actionKey, fieldLabel, historyValueKey, reasonKey } from "./labels";

function useTime() {
  const { language } = useI18n();
  return (at: Timestamp | undefined) => (at ? formatTime(language, timestampDate(at)) : "");
}

function Owner({ id }: { id: string }) {
  const { t } = useI18n();
  return id ? <EmployeeName id={id} /> : <Tag>{t("customers.pool")}</Tag>;
}

export function HistoryTab({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  return (
    <>
      <Typography.Title level={4}>{t("customers.history.owners")}</Typography.Title>
      <OwnerChanges customerId={customerId} />
      <Typography.Title level={4} style={{ marginTop: 24 }}>
        {t("customers.history.changes")}
      </Typography.Title>
      <FieldChanges customerId={customerId} />
    </>
  );
}

function OwnerChanges({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const time = useTime();
  const list = useInfiniteQuery({
    queryKey: ["ownerChanges", customerId],
    queryFn: ({ pageParam, signal }) => customers.listOwnerChanges({ customerId, pageSize: 50, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  return (
    <>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<OwnerChange>
        id="owner-history"
        rowKey="id"
        size="small"
        pagination={false}
        loading={list.isFetching}
        dataSource={list.data?.pages.flatMap((p) => p.ownerChanges) ?? []}
        columns={[
          { title: t("customers.history.when"), key: "when", render: (_, c) => time(c.changeTime) },
          {
            title: t("customers.history.fromTo"),
            key: "fromTo",
            render: (_, c) => (
              <Space>
                <Owner id={c.fromOwnerId} />→<Owner id={c.toOwnerId} />
              </Space>
            ),
          },
          { title: t("customers.history.reason"), key: "reason", render: (_, c) => t(reasonKey(c.reason)) },
          { title: t("customers.history.note"), dataIndex: "note" },
          { title: t("customers.history.by"), key: "by", render: (_, c) => <EmployeeName id={c.changedBy} /> },
        ]}
      />
      {list.hasNextPage && (
        <Button style={{ marginTop: 8 }} onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
          {t("common.more")}
        </Button>
      )}
    </>
  );
}

/** A history value as the screens show it: enums in words, codes by name, owners by name. */
function useHistoryValue() {
  const { t } = useI18n();
  const dictionaries: Record<string, ReturnType<typeof useDictionary>> = {
    level_code: useDictionary("level"),
    source_code: useDictionary("source"),
    industry_code: useDictionary("industry"),
    type_code: useDictionary("customer_type"),
    category_id: useCategories(),
  };
  return (field: string, value: string): ReactNode => {
    if (field === "owner_id" && value) return <EmployeeName id={value} />;
    const key = historyValueKey(field, value);
    if (key && t(key) !== key) return t(key);
    return dictionaries[field]?.nameOf(value) ?? value;
  };
}

function FieldChanges({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const time = useTime();
  const shown = useHistoryValue();
  const list = useInfiniteQuery({
    queryKey: ["customerChanges", customerId],
    queryFn: ({ pageParam, signal }) => customers.listCustomerChanges({ customerId, pageSize: 50, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const empty = <Typography.Text type="secondary">{t("common.none")}</Typography.Text>;
  return (
    <>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<CustomerChange>
        id="change-history"
        rowKey="id"
        size="small"
        pagination={false}
        loading={list.isFetching}
        dataSource={list.data?.pages.flatMap((p) => p.changes) ?? []}
        columns={[
          { title: t("customers.history.when"), key: "when", render: (_, c) => time(c.changeTime) },
          { title: t("customers.history.by"), key: "by", render: (_, c) => <EmployeeName id={c.changedBy} /> },
          {
            title: t("customers.history.action"),
            key: "action",
            render: (_, c) => {
              const key = actionKey(c.action);
              return <Tag>{key ? t(key) : c.action}</Tag>;
            },
          },
          {
            title: t("customers.history.fields"),
            key: "fields",
            render: (_, c) => (
              <ul style={{ margin: 0, paddingInlineStart: 16 }}>
                {c.fields.map((f) => (
                  <li key={f.field}>
                    <Typography.Text strong>{fieldLabel(t, f.field)}</Typography.Text>: {f.oldValue ? shown(f.field, f.oldValue) : empty} → {f.newValue ? shown(f.field, f.newValue) : empty}
                  </li>
                ))}
              </ul>
            ),
          },
        ]}
      />
      {list.hasNextPage && (
        <Button style={{ marginTop: 8 }} onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
          {t("common.more")}
        </Button>
      )}
    </>
  );
}
