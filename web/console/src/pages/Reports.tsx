// Reports: the sales funnel, the forecast against quota with its weekly snapshots, the
// opportunity and project analyses and lead conversion, each a chart with a table of its
// figures, over the records in the caller's scope (a manager sees the team's). The tab is kept
// in the address (`?tab=forecast`) so a report can be linked to.

import { Tabs, Typography } from "antd";
import { useSearchParams } from "react-router";
import { useI18n } from "../i18n";
import { AnalysisReport } from "./reports/AnalysisReport";
import { ForecastReport } from "./reports/ForecastReport";
import { FunnelReport } from "./reports/FunnelReport";
import { LeadReport } from "./reports/LeadReport";
import { ProjectReport } from "./reports/ProjectReport";

const TABS = ["funnel", "forecast", "opportunities", "projects", "leads"] as const;

export default function Reports() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const wanted = params.get("tab");
  const tab = TABS.find((x) => x === wanted) ?? "funnel";
  return (
    <>
      <Typography.Title level={2}>{t("reports.title")}</Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams({ tab: key }, { replace: true })}
        destroyOnHidden
        items={[
          { key: "funnel", label: t("reports.tab.funnel"), children: <FunnelReport /> },
          { key: "forecast", label: t("reports.tab.forecast"), children: <ForecastReport /> },
          { key: "opportunities", label: t("reports.tab.opportunities"), children: <AnalysisReport /> },
          { key: "projects", label: t("reports.tab.projects"), children: <ProjectReport /> },
          { key: "leads", label: t("reports.tab.leads"), children: <LeadReport /> },
        ]}
      />
    </>
  );
}
