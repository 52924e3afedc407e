// The opportunity analysis tab: expected cost, sales, profit and margins, win rate, average deal
// size and cycle length per customer or salesperson, for one stage or all, created in a period;
// the total as the table's last row.

import { useMemo, useState } from "react";
import { Card, Form, Radio, Select, Space } from "antd";
import { useQuery } from "@tanstack/react-query";
import { sales } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { Chart } from "../../components/Chart";
import { ErrorNotice } from "../../ErrorNotice";
import { AnalysisGrouping } from "../../gen/crm/sales/v1/sales_pb.js";
import { useI18n } from "../../i18n";
import { analysisFigures } from "./figures";
import { ALL_TIME, PeriodPicker, useCustomerNames, useEmployeeNames, useFormats, type Period } from "./shared";

export function GroupingPicker({ id, value, onChange }: { id: string; value: AnalysisGrouping; onChange: (g: AnalysisGrouping) => void }) {
  const { t } = useI18n();
  return (
    <Form.Item label={t("reports.groupBy")} style={{ marginBottom: 0 }}>
      <Radio.Group
        id={id}
        aria-label={t("reports.groupBy")}
        optionType="button"
        value={value}
        onChange={(e) => onChange(e.target.value as AnalysisGrouping)}
        options={[
          { value: AnalysisGrouping.SALESPERSON, label: t("reports.bySalesperson") },
          { value: AnalysisGrouping.CUSTOMER, label: t("reports.byCustomer") },
        ]}
      />
    </Form.Item>
  );
}

export function AnalysisReport() {
  const { t } = useI18n();
  const formats = useFormats();
  const [groupBy, setGroupBy] = useState(AnalysisGrouping.SALESPERSON);
  const [stageId, setStageId] = useState("");
  const [period, setPeriod] = useState<Period>(ALL_TIME);
  const pipelines = useQuery({
    queryKey: ["pipelines"],
    queryFn: ({ signal }) => sales.listPipelines({}, { signal }),
    staleTime: 5 * 60_000,
  });
  const analysis = useQuery({
    queryKey: ["report", "opportunityAnalysis", groupBy, stageId, period],
    queryFn: ({ signal }) => sales.getOpportunityAnalysis({ groupBy, stageId, period }, { signal }),
  });
  const keys = analysis.data?.rows.map((r) => r.key) ?? [];
  const employeeName = useEmployeeNames();
  const customerName = useCustomerNames(groupBy === AnalysisGrouping.CUSTOMER ? keys : []);
  const nameOf = groupBy === AnalysisGrouping.CUSTOMER ? customerName : employeeName;
  const names = keys.map(nameOf).join("\n");
  const figures = useMemo(() => {
    if (!analysis.data) return null;
    const f = analysisFigures(analysis.data.rows, nameOf, formats);
    if (analysis.data.total && analysis.data.rows.length > 0) {
      const total = analysisFigures([analysis.data.total], () => t("reports.total"), formats).table.rows[0];
      f.table.rows.push(total);
    }
    return f;
    // The names change as they arrive: `names` stands for them.
  }, [analysis.data, formats, names]);
  const stages = (pipelines.data?.pipelines ?? []).flatMap((p) =>
    p.stages.map((s) => ({ value: s.id, label: (pipelines.data?.pipelines.length ?? 0) > 1 ? `${p.name} · ${s.name}` : s.name })),
  );
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Form layout="inline" style={{ rowGap: 8 }}>
        <GroupingPicker id="analysis-group" value={groupBy} onChange={setGroupBy} />
        <Form.Item label={t("reports.analysis.stage")} htmlFor="analysis-stage" style={{ marginBottom: 0 }}>
          <Select
            id="analysis-stage"
            style={{ minWidth: 200 }}
            value={stageId}
            onChange={setStageId}
            options={[{ value: "", label: t("reports.analysis.anyStage") }, ...stages]}
          />
        </Form.Item>
        <PeriodPicker id="analysis-period" value={period} onChange={setPeriod} />
      </Form>
      <ErrorNotice problem={analysis.error ? problemFromError(analysis.error) : null} />
      {figures && (
        <Card size="small">
          <Chart option={figures.option} table={figures.table} label={t("reports.analysis.chart")} testId="analysis-table" />
        </Card>
      )}
    </Space>
  );
}
