// Customers, searched as you type over any part of the name, a contact or a phone: owner by
// name, level, status and category as the service holds them, the last and next follow-ups,
// more on demand; a new customer and the search's CSV export for those allowed.

import { useDeferredValue, useState } from "react";
import { Alert, Button, Input, Space, Table, Tag } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Link, useLocation, useNavigate } from "react-router";
import { customers } from "../api/client";
import { problemFromError } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import type { Customer } from "../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../i18n";
import { formatTime } from "../i18n/locale";
import { useCategories, useDictionary } from "./customer/catalog";
import { downloadCustomers } from "./customer/export";
import { kindKey, statusKey } from "./customer/labels";

const PAGE_SIZE = 50;

export default function Customers() {
  return <CustomersScreen />;
}

function CustomersScreen() {
  const { t, language } = useI18n();
  const navigate = useNavigate();
  // What the last screen did (a customer transferred away, deleted), said once here.
  const notice = (useLocation().state as { notice?: string } | null)?.notice;
  const [typed, setTyped] = useState("");
  const query = useDeferredValue(typed.trim());
  const levels = useDictionary("level");
  const categories = useCategories();
  const me = session();
  const list = useInfiniteQuery({
    queryKey: ["customers", query],
    queryFn: ({ pageParam, signal }) => customers.listCustomers({ query, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const exporting = useMutation({
    mutationFn: () => downloadCustomers(query),
  });
  const rows = list.data?.pages.flatMap((p) => p.customers) ?? [];
  const time = (at: Timestamp | undefined) => (at ? formatTime(language, timestampDate(at)) : "");
  return (
    <>
      <Space wrap style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
        <Input.Search
          id="customer-search"
          placeholder={t("customers.search")}
          aria-label={t("customers.search")}
          allowClear
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          style={{ width: 420, maxWidth: "100%" }}
        />
        <Space>
          {allows(me, "customers.customer.export") && (
            <Button loading={exporting.isPending} onClick={() => exporting.mutate()}>
              {t("customers.export")}
            </Button>
          )}
          {allows(me, "customers.customer.create") && (
            <Button type="primary" onClick={() => navigate("/customers/new")}>
              {t("customers.new")}
            </Button>
          )}
        </Space>
      </Space>
      {notice && <Alert type="success" showIcon closable message={notice} style={{ marginBottom: 16 }} />}
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <ErrorNotice problem={exporting.error ? problemFromError(exporting.error) : null} />
      <Table<Customer>
        rowKey="id"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: t("customers.empty") }}
        columns={[
          {
            title: t("customers.name"),
            key: "name",
            render: (_, c) => <Link to={`/customers/${c.id}`}>{c.name}</Link>,
          },
          { title: t("customers.kindLabel"), key: "kind", render: (_, c) => t(kindKey(c.kind)) },
          { title: t("customers.phone"), key: "phone", render: (_, c) => c.phone || c.mobile },
          {
            title: t("customers.owner"),
            key: "owner",
            render: (_, c) => (c.ownerId ? <EmployeeName id={c.ownerId} /> : <Tag>{t("customers.pool")}</Tag>),
          },
          { title: t("customers.level"), key: "level", render: (_, c) => levels.nameOf(c.levelCode) },
          { title: t("customers.statusLabel"), key: "status", render: (_, c) => t(statusKey(c.status)) },
          { title: t("customers.category"), key: "category", render: (_, c) => categories.nameOf(c.categoryId) },
          { title: t("customers.lastFollowUp"), key: "lastFollowUp", render: (_, c) => time(c.lastFollowUpTime) },
          { title: t("customers.nextFollowUp"), key: "nextFollowUp", render: (_, c) => time(c.nextFollowUpTime) },
        ]}
      />
      {list.hasNextPage && (
        <div style={{ textAlign: "center", marginTop: 16 }}>
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        </div>
      )}
    </>
  );
}
