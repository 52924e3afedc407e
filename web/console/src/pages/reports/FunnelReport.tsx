// The funnel tab: open opportunities per stage of a pipeline (count, amounts, stuck deals) in the
// caller's scope (a manager's team, a salesperson's own), created in a period; won and lost
// totals beside it.

import { useMemo, useState } from "react";
import { Card, Flex, Form, Select, Space, Statistic } from "antd";
import { useQuery } from "@tanstack/react-query";
import { sales } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { Chart } from "../../components/Chart";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { funnelFigures } from "./figures";
import { ALL_TIME, PeriodPicker, useFormats, type Period } from "./shared";

export function FunnelReport() {
  const { t } = useI18n();
  const formats = useFormats();
  const [pipelineId, setPipelineId] = useState("");
  const [period, setPeriod] = useState<Period>(ALL_TIME);
  const pipelines = useQuery({
    queryKey: ["pipelines"],
    queryFn: ({ signal }) => sales.listPipelines({}, { signal }),
    staleTime: 5 * 60_000,
  });
  const funnel = useQuery({
    queryKey: ["report", "funnel", pipelineId, period],
    queryFn: ({ signal }) => sales.getFunnel({ pipelineId, period }, { signal }),
  });
  const figures = useMemo(() => (funnel.data ? funnelFigures(funnel.data, formats) : null), [funnel.data, formats]);
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Form layout="inline">
        <Form.Item label={t("reports.funnel.pipeline")} htmlFor="funnel-pipeline" style={{ marginBottom: 0 }}>
          <Select
            id="funnel-pipeline"
            style={{ minWidth: 200 }}
            value={pipelineId}
            onChange={setPipelineId}
            loading={pipelines.isLoading}
            options={[
              { value: "", label: t("reports.funnel.defaultPipeline") },
              ...(pipelines.data?.pipelines ?? []).map((p) => ({ value: p.id, label: p.name })),
            ]}
          />
        </Form.Item>
        <PeriodPicker id="funnel-period" value={period} onChange={setPeriod} />
      </Form>
      <ErrorNotice problem={funnel.error ? problemFromError(funnel.error) : pipelines.error ? problemFromError(pipelines.error) : null} />
      {funnel.data && figures && (
        <>
          <Flex gap={48} wrap>
            <Statistic title={t("reports.funnel.won")} value={formats.count(funnel.data.wonCount)} />
            <Statistic title={t("reports.funnel.wonAmount")} value={formats.money(funnel.data.wonAmount)} />
            <Statistic title={t("reports.funnel.lost")} value={formats.count(funnel.data.lostCount)} />
          </Flex>
          <Card size="small">
            <Chart option={figures.option} table={figures.table} label={t("reports.funnel.chart")} testId="funnel-table" />
          </Card>
        </>
      )}
    </Space>
  );
}
