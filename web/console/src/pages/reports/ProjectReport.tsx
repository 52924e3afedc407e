// The project analysis tab: per customer or salesperson, the projects' expected sales beside
// their actual sales, cost, profit and margin, for projects created in a period; the total as
// the table's last row.

import { useMemo, useState } from "react";
import { Card, Form, Space } from "antd";
import { useQuery } from "@tanstack/react-query";
import { sales } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { Chart } from "../../components/Chart";
import { ErrorNotice } from "../../ErrorNotice";
import { AnalysisGrouping } from "../../gen/crm/sales/v1/sales_pb.js";
import { useI18n } from "../../i18n";
import { GroupingPicker } from "./AnalysisReport";
import { projectFigures } from "./figures";
import { ALL_TIME, PeriodPicker, useCustomerNames, useEmployeeNames, useFormats, type Period } from "./shared";

export function ProjectReport() {
  const { t } = useI18n();
  const formats = useFormats();
  const [groupBy, setGroupBy] = useState(AnalysisGrouping.SALESPERSON);
  const [period, setPeriod] = useState<Period>(ALL_TIME);
  const analysis = useQuery({
    queryKey: ["report", "projectAnalysis", groupBy, period],
    queryFn: ({ signal }) => sales.getProjectAnalysis({ groupBy, period }, { signal }),
  });
  const keys = analysis.data?.rows.map((r) => r.expected?.key ?? "") ?? [];
  const employeeName = useEmployeeNames();
  const customerName = useCustomerNames(groupBy === AnalysisGrouping.CUSTOMER ? keys : []);
  const nameOf = groupBy === AnalysisGrouping.CUSTOMER ? customerName : employeeName;
  const names = keys.map(nameOf).join("\n");
  const figures = useMemo(() => {
    if (!analysis.data) return null;
    const f = projectFigures(analysis.data.rows, nameOf, formats);
    if (analysis.data.total && analysis.data.rows.length > 0) {
      f.table.rows.push(projectFigures([analysis.data.total], () => t("reports.total"), formats).table.rows[0]);
    }
    return f;
  }, [analysis.data, formats, names]);
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Form layout="inline" style={{ rowGap: 8 }}>
        <GroupingPicker id="projects-group" value={groupBy} onChange={setGroupBy} />
        <PeriodPicker id="projects-period" value={period} onChange={setPeriod} />
      </Form>
      <ErrorNotice problem={analysis.error ? problemFromError(analysis.error) : null} />
      {figures && (
        <Card size="small">
          <Chart option={figures.option} table={figures.table} label={t("reports.projects.chart")} testId="projects-table" />
        </Card>
      )}
    </Space>
  );
}
