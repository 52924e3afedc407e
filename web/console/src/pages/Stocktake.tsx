// A stocktake: its count sheet (each product's book quantity as frozen, what was counted, by
// whom and when). While it is counting, counts are entered in the sheet and saved together
// (only the rows that changed; a refused count is told on its row), the differences are posted
// as one adjustment document, or the stocktake is cancelled. Once posted, each line shows the
// book and counted quantities, what moved in or out between the freeze and the posting (kept),
// the adjustment and what is on hand after, with the adjustment document.

import { useRef, useState } from "react";
import { Alert, Button, Descriptions, Input, Popconfirm, Space, Spin, Table, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { warehouse } from "../api/client";
import { Problem, problemFromError } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { StocktakeStatus, type GetStocktakeResponse, type StocktakeLine } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { formatNumber } from "../i18n/locale";
import { useCategories } from "./catalog/data";
import { useFormats, useWarehouses } from "./stock/shared";
import { changedCounts, countProgress, countViolations, formatQty, postedLineSentence, recordCountsRequest, type ChangedCount } from "./counting/logic";
import { StocktakeStatusTag } from "./counting/widgets";

export default function Stocktake() {
  const { stocktakeId = "" } = useParams();
  const { t, language } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const categories = useCategories();
  const queryClient = useQueryClient();
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [rowErrors, setRowErrors] = useState<Map<string, string>>(new Map());
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);
  const postRequestId = useRef<string | null>(null);
  const answer = useQuery({
    queryKey: ["stocktake", stocktakeId],
    queryFn: ({ signal }) => warehouse.getStocktake({ id: stocktakeId }, { signal }),
  });
  const stocktake = answer.data?.stocktake;
  const lines = stocktake?.lines ?? [];
  const changed = changedCounts(lines, edits);
  const canWrite = allows(session(), "warehouse.stocktake.write");
  const canPost = allows(session(), "warehouse.stocktake.post");

  const adopt = (next: GetStocktakeResponse["stocktake"]) => {
    if (next) queryClient.setQueryData(["stocktake", stocktakeId], { ...answer.data, stocktake: next });
    void queryClient.invalidateQueries({ queryKey: ["stocktakes"] });
  };

  const save = useMutation({
    mutationFn: (rows: ChangedCount[]) => warehouse.recordCounts(recordCountsRequest(stocktakeId, rows, crypto.randomUUID())),
    onSuccess: (a, rows) => {
      adopt(a.stocktake);
      setEdits((e) => {
        const next = { ...e };
        for (const r of rows) delete next[r.productId];
        return next;
      });
      setRowErrors(new Map());
      setProblem(null);
      setSaved(true);
    },
    onError: (e, rows) => {
      const p = problemFromError(e);
      const byRow = countViolations(p.violations, rows);
      setRowErrors(byRow);
      setProblem(p);
      setSaved(false);
    },
  });
  const post = useMutation({
    mutationFn: () => warehouse.postStocktake({ id: stocktakeId, requestId: postRequestId.current! }),
    onSuccess: (a) => {
      adopt(a.stocktake);
      setProblem(null);
      void queryClient.invalidateQueries({ queryKey: ["stockLevels"] });
      void queryClient.invalidateQueries({ queryKey: ["stockDocuments"] });
      void queryClient.invalidateQueries({ queryKey: ["ledger"] });
    },
    onError: (e) => setProblem(problemFromError(e)),
    onSettled: () => {
      postRequestId.current = null;
    },
  });
  const cancel = useMutation({
    mutationFn: () => warehouse.cancelStocktake({ id: stocktakeId }),
    onSuccess: (a) => {
      adopt(a.stocktake);
      setProblem(null);
    },
    onError: (e) => setProblem(problemFromError(e)),
  });

  if (answer.isLoading) return <Spin />;
  if (!stocktake) return <ErrorNotice problem={answer.error ? problemFromError(answer.error) : new Problem(t("common.notFound"), 0, "NOT_FOUND", [])} />;

  const counting = stocktake.status === StocktakeStatus.COUNTING;
  const posted = stocktake.status === StocktakeStatus.POSTED;
  const progress = countProgress(lines);
  const q = (v: string, signed = false) => formatQty(language, v, signed);
  const category = stocktake.categoryId ? (categories.data?.categories.find((c) => c.id === stocktake.categoryId)?.pathName ?? stocktake.categoryId) : "";

  const base = [
    { title: t("counting.line.code"), key: "code", render: (_: unknown, l: StocktakeLine) => l.productCode },
    { title: t("counting.line.name"), key: "name", render: (_: unknown, l: StocktakeLine) => l.productName },
    { title: t("counting.line.unit"), key: "unit", render: (_: unknown, l: StocktakeLine) => l.unit },
    { title: t("counting.line.book"), key: "book", align: "right" as const, render: (_: unknown, l: StocktakeLine) => <span data-cell="book">{q(l.bookQuantity)}</span> },
  ];
  const countingColumns = [
    ...base,
    {
      title: t("counting.line.counted"),
      key: "counted",
      render: (_: unknown, l: StocktakeLine) => {
        if (!counting || !canWrite) return <span data-cell="counted">{q(l.countedQuantity)}</span>;
        const error = rowErrors.get(l.productId);
        return (
          <div style={{ minWidth: 140 }}>
            <Input
              inputMode="decimal"
              aria-label={t("counting.line.countedOf", { product: l.productCode })}
              aria-invalid={error ? true : undefined}
              data-product={l.productCode}
              status={error ? "error" : undefined}
              value={edits[l.productId] ?? l.countedQuantity}
              placeholder={t("counting.line.notCounted")}
              onChange={(e) => {
                const value = e.target.value;
                setSaved(false);
                setEdits((m) => ({ ...m, [l.productId]: value }));
              }}
            />
            {error && (
              <Typography.Text type="danger" role="alert" data-testid="count-error">
                {error}
              </Typography.Text>
            )}
          </div>
        );
      },
    },
    { title: t("counting.line.countedBy"), key: "by", render: (_: unknown, l: StocktakeLine) => <EmployeeName id={l.countedBy} /> },
    { title: t("counting.line.countTime"), key: "when", render: (_: unknown, l: StocktakeLine) => f.time(l.countTime) },
  ];
  const postedColumns = [
    ...base,
    { title: t("counting.line.counted"), key: "counted", align: "right" as const, render: (_: unknown, l: StocktakeLine) => <span data-cell="counted">{q(l.countedQuantity)}</span> },
    { title: t("counting.line.moved"), key: "moved", align: "right" as const, render: (_: unknown, l: StocktakeLine) => <span data-cell="moved">{q(l.movedQuantity, true)}</span> },
    { title: t("counting.line.adjustment"), key: "adjustment", align: "right" as const, render: (_: unknown, l: StocktakeLine) => <span data-cell="adjustment">{q(l.adjustment, true)}</span> },
    { title: t("counting.line.onHandAfter"), key: "after", align: "right" as const, render: (_: unknown, l: StocktakeLine) => <span data-cell="after">{q(l.onHandAfter)}</span> },
    { title: t("counting.line.explained"), key: "explained", render: (_: unknown, l: StocktakeLine) => <Typography.Text type="secondary">{postedLineSentence(t, language, l)}</Typography.Text> },
  ];

  return (
    <>
      <Typography.Title level={2}>{t("counting.title", { number: stocktake.number })}</Typography.Title>
      <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t("counting.status")}>
          <StocktakeStatusTag status={stocktake.status} />
        </Descriptions.Item>
        <Descriptions.Item label={t("counting.warehouse")}>{warehouses.nameOf(stocktake.warehouseId)}</Descriptions.Item>
        <Descriptions.Item label={t("counting.progress")}>
          <span data-testid="progress">{t("counting.progress.value", { counted: formatNumber(language, progress.counted), total: formatNumber(language, progress.total) })}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("counting.freezeTime")}>{f.time(stocktake.freezeTime)}</Descriptions.Item>
        {category && <Descriptions.Item label={t("counting.new.category")}>{category}</Descriptions.Item>}
        {stocktake.postTime && <Descriptions.Item label={t("counting.postTime")}>{f.time(stocktake.postTime)}</Descriptions.Item>}
        {stocktake.postedBy && (
          <Descriptions.Item label={t("counting.postedBy")}>
            <EmployeeName id={stocktake.postedBy} />
          </Descriptions.Item>
        )}
        {stocktake.remark && <Descriptions.Item label={t("counting.remark")}>{stocktake.remark}</Descriptions.Item>}
      </Descriptions>
      {counting && <Typography.Paragraph type="secondary">{t("counting.sheet.hint")}</Typography.Paragraph>}
      {posted && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 16 }}
          data-testid="posted-explained"
          message={t("counting.posted.explain")}
          description={
            stocktake.documentId ? (
              <Link to={`/stock/documents/${stocktake.documentId}`}>{t("counting.posted.document")}</Link>
            ) : (
              t("counting.posted.noDocument")
            )
          }
        />
      )}
      {counting && (canWrite || canPost) && (
        <Space wrap style={{ marginBottom: 16 }}>
          {canWrite && (
            <Button type="primary" disabled={changed.length === 0} loading={save.isPending} onClick={() => save.mutate(changed)}>
              {changed.length > 0 ? t("counting.save.some", { n: formatNumber(language, changed.length) }) : t("counting.save")}
            </Button>
          )}
          {canPost && (
            <Popconfirm
              title={t("counting.post.confirm")}
              description={t("counting.post.confirmDetail", { counted: formatNumber(language, progress.counted), total: formatNumber(language, progress.total) })}
              okText={t("counting.post")}
              cancelText={t("common.cancel")}
              disabled={changed.length > 0}
              onConfirm={() => {
                postRequestId.current ??= crypto.randomUUID();
                post.mutate();
              }}
            >
              <Button disabled={changed.length > 0 || progress.counted === 0} loading={post.isPending}>
                {t("counting.post")}
              </Button>
            </Popconfirm>
          )}
          {canWrite && (
            <Popconfirm title={t("counting.cancel.confirm")} okText={t("counting.cancel")} cancelText={t("common.back")} onConfirm={() => cancel.mutate()}>
              <Button danger loading={cancel.isPending}>
                {t("counting.cancel")}
              </Button>
            </Popconfirm>
          )}
          {changed.length > 0 && <Typography.Text type="secondary">{t("counting.post.saveFirst")}</Typography.Text>}
          {saved && changed.length === 0 && (
            <Typography.Text type="success" data-testid="counts-saved">
              {t("counting.save.done")}
            </Typography.Text>
          )}
        </Space>
      )}
      <ErrorNotice problem={problem} />
      <Table<StocktakeLine>
        rowKey="productId"
        dataSource={lines}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        style={{ marginTop: 16 }}
        locale={{ emptyText: <Typography.Text type="secondary">{t("counting.sheet.empty")}</Typography.Text> }}
        columns={posted ? postedColumns : countingColumns}
      />
    </>
  );
}
