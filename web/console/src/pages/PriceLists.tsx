// Price lists: by customer level or naming customers, each with the days it is valid, its
// status and how many products it prices; narrowed by kind and status, more on demand. Those who
// may set prices create a list here (then open it to price its products).

import { useState } from "react";
import { Button, Form, Modal, Select, Space, Table, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import { PriceListKind, type PriceList } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { formatNumber } from "../i18n/locale";
import { useDictionary } from "./customer/catalog";
import { newRequestId } from "./pool/importing";
import { priceListFilter, priceListOf, validity, type KindFilter, type PriceListValues, type StatusFilter } from "./pricing/logic";
import { NEW_PRICE_LIST, PriceListFields } from "./pricing/PriceListFields";
import { KindTag, StatusTag, useCustomers } from "./pricing/widgets";

const PAGE_SIZE = 50;

function NewPriceList({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<PriceListValues>();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (v: PriceListValues) => warehouse.createPriceList({ priceList: priceListOf(v), requestId: newRequestId() }),
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: ["priceLists"] });
      form.resetFields();
      onClose();
      if (answer.priceList) navigate(`/price-lists/${answer.priceList.id}`);
    },
  });
  return (
    <Modal
      title={t("pricing.lists.new")}
      open={open}
      onCancel={onClose}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      confirmLoading={create.isPending}
      onOk={() => form.submit()}
      destroyOnHidden
      width={640}
    >
      <Form<PriceListValues> form={form} name="new-price-list" layout="vertical" initialValues={NEW_PRICE_LIST} onFinish={(v) => create.mutate({ ...NEW_PRICE_LIST, ...v })}>
        <PriceListFields />
      </Form>
      <ErrorNotice problem={create.error ? problemFromError(create.error) : null} />
    </Modal>
  );
}

/** Whom a list prices: its level's name, or the customers it names. */
function Whom({ list, levelName, names }: { list: PriceList; levelName: (code: string) => string; names: Map<string, string> }) {
  const { t, language } = useI18n();
  if (list.kind === PriceListKind.LEVEL) return <>{levelName(list.customerLevel)}</>;
  const shown = list.customerIds.slice(0, 3).map((id) => names.get(id) ?? id);
  const more = list.customerIds.length - shown.length;
  return (
    <>
      {shown.join(", ")}
      {more > 0 && ` ${t("pricing.lists.more", { n: formatNumber(language, more) })}`}
    </>
  );
}

export default function PriceLists() {
  const { t, language } = useI18n();
  const [kind, setKind] = useState<KindFilter>("");
  const [status, setStatus] = useState<StatusFilter>("active");
  const [creating, setCreating] = useState(false);
  const levels = useDictionary("level");
  const filter = priceListFilter(kind, status);
  const list = useInfiniteQuery({
    queryKey: ["priceLists", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listPriceLists({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.priceLists) ?? [];
  const customerIds = rows.flatMap((r) => r.customerIds.slice(0, 3));
  const customers = useCustomers(customerIds);
  const names = new Map([...customers].map(([id, c]) => [id, c.name]));
  return (
    <>
      <Typography.Title level={2}>{t("menu.priceLists")}</Typography.Title>
      <Space wrap style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
        <Space wrap>
          <Select<KindFilter>
            id="price-list-kind"
            aria-label={t("pricing.list.kind")}
            value={kind}
            onChange={setKind}
            style={{ width: 200 }}
            options={[
              { value: "", label: t("pricing.kind.any") },
              { value: "level", label: t("pricing.kind.level") },
              { value: "named", label: t("pricing.kind.named") },
            ]}
          />
          <Select<StatusFilter>
            id="price-list-status"
            aria-label={t("pricing.list.status")}
            value={status}
            onChange={setStatus}
            style={{ width: 160 }}
            options={[
              { value: "active", label: t("pricing.status.active") },
              { value: "inactive", label: t("pricing.status.inactive") },
              { value: "", label: t("pricing.status.any") },
            ]}
          />
        </Space>
        <Space wrap>
          <Link to="/price-check">{t("menu.priceCheck")}</Link>
          {allows(session(), "warehouse.price.write") && (
            <Button type="primary" onClick={() => setCreating(true)}>
              {t("pricing.lists.new")}
            </Button>
          )}
        </Space>
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<PriceList>
        id="price-lists"
        rowKey="id"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: <Typography.Text type="secondary">{t("pricing.lists.empty")}</Typography.Text> }}
        columns={[
          { title: t("pricing.list.name"), key: "name", render: (_, p) => <Link to={`/price-lists/${p.id}`}>{p.name}</Link> },
          { title: t("pricing.list.kind"), key: "kind", render: (_, p) => <KindTag kind={p.kind} /> },
          { title: t("pricing.lists.whom"), key: "whom", render: (_, p) => <Whom list={p} levelName={levels.nameOf} names={names} /> },
          { title: t("pricing.list.validity"), key: "validity", render: (_, p) => <span style={{ whiteSpace: "nowrap" }}>{validity(p, t("pricing.list.open"))}</span> },
          { title: t("pricing.list.status"), key: "status", render: (_, p) => <StatusTag status={p.status} /> },
          { title: t("pricing.list.products"), key: "count", align: "right", render: (_, p) => formatNumber(language, p.priceCount) },
        ]}
      />
      {list.hasNextPage && (
        <div style={{ textAlign: "center", marginTop: 16 }}>
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        </div>
      )}
      <NewPriceList open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
