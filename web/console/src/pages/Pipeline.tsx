// The pipeline board: the chosen pipeline's open deals in one column per stage (count and sum
// in each heading, stuck deals tagged). A deal is moved by dragging its card to another column
// or with its "Move to…" menu: the card moves at once, the service (UpdateOpportunity with
// stage_id in the mask and the etag read) decides, and a refusal puts the card back with the
// service's message.

import { useState } from "react";
import { Select, Space, Spin, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Opportunity, Pipeline as PipelineMessage } from "../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { formatMoney, formatNumber } from "../i18n/locale";
import { columnTotals, groupByStage, moveCard, rollback, settle } from "./sales/board";
import { BoardCard } from "./sales/BoardCard";
import { boardFilter } from "./sales/filters";
import { usePipelines } from "./sales/shared";

const PAGE = 200;
/** At most this many deals on one board (beyond it, the reports serve better). */
const MOST = 2000;

async function openDeals(pipelineId: string, signal: AbortSignal): Promise<Opportunity[]> {
  const all: Opportunity[] = [];
  let pageToken = "";
  do {
    const page = await sales.listOpportunities({ filter: boardFilter(pipelineId), pageSize: PAGE, pageToken }, { signal });
    all.push(...page.opportunities);
    pageToken = page.nextPageToken;
  } while (pageToken && all.length < MOST);
  return all;
}

function Board({ pipeline }: { pipeline: PipelineMessage }) {
  const { t, language } = useI18n();
  const client = useQueryClient();
  const key = ["board", pipeline.id];
  const [problem, setProblem] = useState<Problem | null>(null);
  const [dragging, setDragging] = useState("");
  const [over, setOver] = useState("");
  const deals = useQuery({ queryKey: key, queryFn: ({ signal }) => openDeals(pipeline.id, signal) });
  const move = useMutation({
    mutationFn: (deal: Opportunity & { targetStageId: string }) =>
      sales.updateOpportunity({
        opportunity: { id: deal.id, stageId: deal.targetStageId, etag: deal.etag },
        updateMask: { paths: ["stage_id"] },
      }),
    onMutate: async (deal) => {
      await client.cancelQueries({ queryKey: key });
      const current = client.getQueryData<Opportunity[]>(key) ?? [];
      const planned = moveCard(current, deal.id, deal.targetStageId);
      client.setQueryData(key, planned.next);
      return planned;
    },
    onSuccess: (answer) => {
      setProblem(null);
      const saved = answer.opportunity;
      if (saved) client.setQueryData<Opportunity[]>(key, (now) => settle(now ?? [], saved));
    },
    onError: (error, _deal, planned) => {
      if (planned) client.setQueryData<Opportunity[]>(key, (now) => rollback(now ?? [], planned));
      setProblem(problemFromError(error));
    },
    onSettled: (_a, _e, deal) => {
      void client.invalidateQueries({ queryKey: ["opportunity", deal.id] });
    },
  });
  const request = (id: string, stageId: string) => {
    const deal = (client.getQueryData<Opportunity[]>(key) ?? []).find((d) => d.id === id);
    if (deal && deal.stageId !== stageId) move.mutate({ ...deal, targetStageId: stageId });
  };
  if (deals.error) return <ErrorNotice problem={problemFromError(deals.error)} />;
  if (!deals.data) return <Spin />;
  const columns = groupByStage(
    pipeline.stages.map((s) => s.id),
    deals.data,
  );
  return (
    <>
      <ErrorNotice problem={problem} />
      <div style={{ display: "flex", gap: 12, overflowX: "auto", alignItems: "flex-start", marginTop: 12 }}>
        {pipeline.stages.map((stage) => {
          const cards = columns.get(stage.id) ?? [];
          const totals = columnTotals(cards);
          return (
            <section
              key={stage.id}
              aria-labelledby={`stage-${stage.id}`}
              data-stage={stage.id}
              onDragOver={(e) => {
                e.preventDefault();
                e.dataTransfer.dropEffect = "move";
                if (over !== stage.id) setOver(stage.id);
              }}
              onDragLeave={() => setOver("")}
              onDrop={(e) => {
                e.preventDefault();
                setOver("");
                const id = e.dataTransfer.getData("text/plain") || dragging;
                setDragging("");
                if (id) request(id, stage.id);
              }}
              style={{
                flex: "0 0 250px",
                minHeight: 320,
                padding: 8,
                borderRadius: 8,
                background: over === stage.id ? "#e6f0ff" : "#fafafa",
                border: "1px solid #d9d9d9",
                outline: over === stage.id ? "2px dashed #0958d9" : "none",
              }}
            >
              <h2 id={`stage-${stage.id}`} style={{ fontSize: 16, margin: "4px 0" }}>
                {stage.name}
              </h2>
              <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }} data-testid={`totals-${stage.id}`}>
                {t("pipeline.columnTotals", {
                  count: formatNumber(language, totals.count),
                  sum: totals.sums.map((m) => formatMoney(language, m.amount, m.currencyCode)).join(" + ") || "—",
                })}
              </Typography.Paragraph>
              {cards.map((deal) => (
                <BoardCard
                  key={deal.id}
                  deal={deal}
                  stages={pipeline.stages}
                  pending={move.isPending && move.variables?.id === deal.id}
                  onDragStart={() => setDragging(deal.id)}
                  onMove={(stageId) => request(deal.id, stageId)}
                />
              ))}
            </section>
          );
        })}
      </div>
    </>
  );
}

export default function Pipeline() {
  const { t } = useI18n();
  const pipelines = usePipelines();
  const [chosen, setChosen] = useState("");
  const list = pipelines.data?.pipelines ?? [];
  const pipeline = list.find((p) => p.id === chosen) ?? list[0];
  return (
    <>
      <Space align="center" wrap style={{ marginBottom: 8 }}>
        <h1 style={{ margin: 0 }}>{t("pipeline.title")}</h1>
        <Select
          id="pipeline-choice"
          aria-label={t("pipeline.choose")}
          value={pipeline?.id}
          onChange={setChosen}
          options={list.map((p) => ({ value: p.id, label: p.name }))}
          style={{ minWidth: 220 }}
        />
      </Space>
      <Typography.Paragraph type="secondary">{t("pipeline.help")}</Typography.Paragraph>
      <ErrorNotice problem={pipelines.error ? problemFromError(pipelines.error) : null} />
      {pipeline ? <Board key={pipeline.id} pipeline={pipeline} /> : pipelines.isFetching ? <Spin /> : <p>{t("pipeline.none")}</p>}
    </>
  );
}
