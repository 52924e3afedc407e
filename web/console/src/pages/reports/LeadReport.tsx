// The lead conversion tab: leads created in a period per salesperson or per source, how many
// were converted or disqualified, and the conversion rate; the total as the table's last row.

import { useMemo, useState } from "react";
import { Card, Form, Radio, Space } from "antd";
import { useQuery } from "@tanstack/react-query";
import { sales } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { Chart } from "../../components/Chart";
import { ErrorNotice } from "../../ErrorNotice";
import { LeadGrouping } from "../../gen/crm/sales/v1/sales_pb.js";
import { useI18n } from "../../i18n";
import { conversionFigures } from "./figures";
import { ALL_TIME, PeriodPicker, useEmployeeNames, useFormats, useSourceNames, type Period } from "./shared";

export function LeadReport() {
  const { t } = useI18n();
  const formats = useFormats();
  const [groupBy, setGroupBy] = useState(LeadGrouping.SALESPERSON);
  const [period, setPeriod] = useState<Period>(ALL_TIME);
  const conversion = useQuery({
    queryKey: ["report", "leadConversion", groupBy, period],
    queryFn: ({ signal }) => sales.getLeadConversion({ groupBy, period }, { signal }),
  });
  const employeeName = useEmployeeNames();
  const sourceName = useSourceNames();
  const nameOf = groupBy === LeadGrouping.SOURCE ? sourceName : employeeName;
  const names = (conversion.data?.rows ?? []).map((r) => nameOf(r.key)).join("\n");
  const figures = useMemo(() => {
    if (!conversion.data) return null;
    const f = conversionFigures(conversion.data.rows, nameOf, formats);
    if (conversion.data.total && conversion.data.rows.length > 0) {
      f.table.rows.push(conversionFigures([conversion.data.total], () => t("reports.total"), formats).table.rows[0]);
    }
    return f;
  }, [conversion.data, formats, names]);
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Form layout="inline" style={{ rowGap: 8 }}>
        <Form.Item label={t("reports.groupBy")} style={{ marginBottom: 0 }}>
          <Radio.Group
            aria-label={t("reports.groupBy")}
            optionType="button"
            value={groupBy}
            onChange={(e) => setGroupBy(e.target.value as LeadGrouping)}
            options={[
              { value: LeadGrouping.SALESPERSON, label: t("reports.bySalesperson") },
              { value: LeadGrouping.SOURCE, label: t("reports.bySource") },
            ]}
          />
        </Form.Item>
        <PeriodPicker id="leads-period" value={period} onChange={setPeriod} />
      </Form>
      <ErrorNotice problem={conversion.error ? problemFromError(conversion.error) : null} />
      {figures && (
        <Card size="small">
          <Chart option={figures.option} table={figures.table} label={t("reports.leads.chart")} testId="leads-table" />
        </Card>
      )}
    </Space>
  );
}
