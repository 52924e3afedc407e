// The public pool: the customers nobody owns (ListCustomers with `in_pool = true`), searched as
// you type; "Claim" takes one (ClaimCustomer) within the caller's caps and cooldowns — a refusal
// shows the service's message — and the claimed row leaves the list. The pool rules the caller
// may read (GetPoolPolicy) stand in one line above.

import { useDeferredValue, useState } from "react";
import { Alert, Button, Input, Space, Table, Tag, Typography } from "antd";
import { Link } from "react-router";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { customers } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import { CustomerKind, type Customer, type ListCustomersResponse } from "../gen/crm/customers/v1/customers_pb";
import { useI18n } from "../i18n";
import { formatDate, formatNumber } from "../i18n/locale";
import { policyFigures } from "./pool/policy";

const PAGE = 50;
const FILTER = "in_pool = true";

function PolicyLine() {
  const { t, language } = useI18n();
  const policy = useQuery({
    queryKey: ["pool-policy"],
    queryFn: ({ signal }) => customers.getPoolPolicy({}, { signal }),
  });
  if (policy.error) return <ErrorNotice problem={problemFromError(policy.error)} />;
  const p = policy.data?.policy;
  if (!p) return null;
  const figures = policyFigures(p, (n) => formatNumber(language, n));
  return (
    <Typography.Paragraph id="pool-policy" type="secondary" style={{ marginBottom: 12 }}>
      {t("pool.policy", { rules: figures.map((f) => t(f.key, f.values)).join(" · ") })}
    </Typography.Paragraph>
  );
}

export default function Pool() {
  const { t, language } = useI18n();
  const mayClaim = allows(session(), "customers.pool.claim");
  const [typed, setTyped] = useState("");
  const query = useDeferredValue(typed.trim());
  const [refusal, setRefusal] = useState<{ name: string; problem: Problem } | null>(null);
  const [claimed, setClaimed] = useState<Customer | null>(null);
  const client = useQueryClient();
  const key = ["pool", query];
  const list = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam, signal }) =>
      customers.listCustomers({ filter: FILTER, query, pageSize: PAGE, pageToken: pageParam, orderBy: "name" }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: (previous) => previous,
  });
  const claim = useMutation({
    mutationFn: (c: Customer) => customers.claimCustomer({ id: c.id }),
    onMutate: () => {
      setRefusal(null);
      setClaimed(null);
    },
    onSuccess: (_, c) => {
      // The claimed customer leaves every cached page of the pool, and is the caller's now.
      client.setQueriesData<InfiniteData<ListCustomersResponse>>({ queryKey: ["pool"] }, (data) =>
        data
          ? { ...data, pages: data.pages.map((p) => ({ ...p, customers: p.customers.filter((x) => x.id !== c.id) })) }
          : data,
      );
      void client.invalidateQueries({ queryKey: ["customers"] });
      void client.invalidateQueries({ queryKey: ["reminders"] });
      setClaimed(c);
    },
    onError: (e, c) => setRefusal({ name: c.name, problem: problemFromError(e) }),
  });
  const rows = list.data?.pages.flatMap((p) => p.customers) ?? [];
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>
        {t("pool.title")}
      </Typography.Title>
      <PolicyLine />
      <Input.Search
        id="pool-search"
        placeholder={t("pool.search")}
        aria-label={t("pool.search")}
        allowClear
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        style={{ marginBottom: 16, maxWidth: 480 }}
      />
      {claimed && (
        <Alert
          id="pool-claimed"
          type="success"
          showIcon
          closable
          onClose={() => setClaimed(null)}
          style={{ marginBottom: 16 }}
          message={
            <>
              {t("pool.claimed", { name: claimed.name })} <Link to={`/customers/${claimed.id}`}>{t("pool.open")}</Link>
            </>
          }
        />
      )}
      {refusal && (
        <div style={{ marginBottom: 16 }} id="pool-refusal">
          <Typography.Text strong>{t("pool.refused", { name: refusal.name })}</Typography.Text>
          <ErrorNotice problem={refusal.problem} />
        </div>
      )}
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<Customer>
        id="pool-table"
        rowKey="id"
        size="middle"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: <Typography.Text type="secondary">{t("pool.empty")}</Typography.Text> }}
        columns={[
          {
            title: t("pool.name"),
            key: "name",
            render: (_, c) => <Link to={`/customers/${c.id}`}>{c.name}</Link>,
          },
          {
            title: t("pool.kind"),
            key: "kind",
            render: (_, c) => (c.kind === CustomerKind.INDIVIDUAL ? t("pool.individual") : t("pool.company")),
          },
          { title: t("pool.level"), key: "level", render: (_, c) => (c.levelCode ? <Tag>{c.levelCode}</Tag> : "") },
          {
            title: t("pool.region"),
            key: "region",
            render: (_, c) => [c.region?.province, c.region?.city].filter(Boolean).join(" "),
          },
          {
            title: t("pool.lastFollowUp"),
            key: "last",
            render: (_, c) => (c.lastFollowUpTime ? formatDate(language, timestampDate(c.lastFollowUpTime)) : t("pool.never")),
          },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_, c) =>
              mayClaim ? (
                <Button
                  type="primary"
                  size="small"
                  aria-label={t("pool.claimOne", { name: c.name })}
                  loading={claim.isPending && claim.variables?.id === c.id}
                  onClick={() => claim.mutate(c)}
                >
                  {t("pool.claim")}
                </Button>
              ) : null,
          },
        ]}
      />
      {list.hasNextPage && (
        <Space style={{ marginTop: 16, width: "100%", justifyContent: "center" }}>
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        </Space>
      )}
    </>
  );
}
