// The reports' figures, built from the sales service's answers: each report's ECharts option and
// the table of the same numbers (display texts formatted for the language). Plain functions, so
// the tests check them without a browser.

import type { Money } from "../../gen/crm/common/v1/common_pb.js";
import {
  ForecastCategory,
  type AnalysisRow,
  type ForecastPeriodTotal,
  type ForecastRow,
  type ForecastSnapshotRow,
  type GetFunnelResponse,
  type LeadConversionRow,
  type ProjectAnalysisRow,
} from "../../gen/crm/sales/v1/sales_pb.js";
import type { ChartOption, ChartTable } from "../../components/Chart";

/** How figures are written in the current language. */
export interface Formats {
  t: (key: string, values?: Record<string, string>) => string;
  /** An amount with its currency; empty for none. */
  money: (m: Money | undefined) => string;
  count: (n: bigint | number) => string;
}

export interface Figures {
  option: ChartOption;
  table: ChartTable;
}

/** A money amount as a chart value (the charts draw floats; the tables show the exact text). */
export function amountOf(m: Money | undefined): number {
  const n = Number(m?.amount ?? "0");
  return Number.isFinite(n) ? n : 0;
}

/** A percentage the service computed (a decimal string, empty when undefined) as display text. */
export function percent(p: string, f: Formats): string {
  const n = Number(p);
  return p === "" || !Number.isFinite(n) ? "—" : `${f.count(n)}%`;
}

const CATEGORIES: ForecastCategory[] = [
  ForecastCategory.PIPELINE,
  ForecastCategory.BEST_CASE,
  ForecastCategory.COMMIT,
  ForecastCategory.CLOSED,
  ForecastCategory.OMITTED,
];

/** The text key of a forecast category. */
export function categoryKey(c: ForecastCategory): string {
  switch (c) {
    case ForecastCategory.PIPELINE:
      return "reports.category.pipeline";
    case ForecastCategory.BEST_CASE:
      return "reports.category.bestCase";
    case ForecastCategory.COMMIT:
      return "reports.category.commit";
    case ForecastCategory.CLOSED:
      return "reports.category.closed";
    case ForecastCategory.OMITTED:
      return "reports.category.omitted";
    default:
      return "reports.category.none";
  }
}

/** The funnel: open opportunities per stage (a funnel of counts), with amounts and stuck deals. */
export function funnelFigures(funnel: GetFunnelResponse, f: Formats): Figures {
  const stages = funnel.stages;
  return {
    option: {
      tooltip: { trigger: "item" },
      series: [
        {
          type: "funnel",
          name: f.t("reports.funnel.count"),
          sort: "none",
          minSize: "8%",
          left: "10%",
          width: "80%",
          label: { show: true, position: "inside", formatter: "{b}: {c}" },
          data: stages.map((s) => ({ name: s.stageName, value: Number(s.count) })),
        },
      ],
    },
    table: {
      columns: [
        f.t("reports.funnel.stage"),
        f.t("reports.funnel.count"),
        f.t("reports.funnel.stuck"),
        f.t("reports.funnel.expected"),
        f.t("reports.funnel.weighted"),
        f.t("reports.funnel.reached"),
      ],
      rows: stages.map((s) => [
        s.stageName,
        f.count(s.count),
        f.count(s.stuckCount),
        f.money(s.expectedAmount),
        f.money(s.opportunityAmount),
        percent(s.reachedPercent, f),
      ]),
    },
  };
}

/** Forecast against quota: weighted amounts per period stacked by category, the quota as a line. */
export function forecastFigures(rows: ForecastRow[], totals: ForecastPeriodTotal[], f: Formats): Figures {
  const periods = [...new Set([...totals.map((t) => t.period), ...rows.map((r) => r.period)])].sort();
  const present = CATEGORIES.filter((c) => rows.some((r) => r.category === c));
  const totalOf = new Map(totals.map((t) => [t.period, t]));
  const series: ChartOption["series"] = present.map((c) => ({
    type: "bar" as const,
    stack: "forecast",
    name: f.t(categoryKey(c)),
    data: periods.map((p) => rows.filter((r) => r.period === p && r.category === c).reduce((sum, r) => sum + amountOf(r.opportunityAmount), 0)),
  }));
  series.push({
    type: "line",
    name: f.t("reports.forecast.quota"),
    data: periods.map((p) => {
      const quota = totalOf.get(p)?.quota;
      return quota ? amountOf(quota) : null;
    }),
  });
  return {
    option: {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 80, right: 24, top: 40, bottom: 40 },
      xAxis: { type: "category", data: periods },
      yAxis: valueAxis(f),
      series,
    },
    table: {
      columns: [f.t("reports.forecast.period"), f.t("reports.forecast.weighted"), f.t("reports.forecast.quota"), f.t("reports.forecast.attainment")],
      rows: periods.map((p) => {
        const t = totalOf.get(p);
        return [p, f.money(t?.opportunityAmount), t?.quota ? f.money(t.quota) : "—", percent(t?.attainmentPercent ?? "", f)];
      }),
    },
  };
}

/** One week of the snapshots: the weighted and expected amounts over every category but omitted. */
export interface WeekTotal {
  week: string;
  weighted: number;
  expected: number;
  currency: string;
}

/** The snapshot rows summed per week (in week order). */
export function weekTotals(rows: ForecastSnapshotRow[]): WeekTotal[] {
  const weeks = new Map<string, WeekTotal>();
  for (const r of rows) {
    if (r.category === ForecastCategory.OMITTED) continue;
    const w = weeks.get(r.week) ?? { week: r.week, weighted: 0, expected: 0, currency: "" };
    w.weighted += amountOf(r.opportunityAmount);
    w.expected += amountOf(r.expectedAmount);
    w.currency ||= r.opportunityAmount?.currencyCode || r.expectedAmount?.currencyCode || "";
    weeks.set(r.week, w);
  }
  return [...weeks.values()].sort((a, b) => a.week.localeCompare(b.week));
}

/** The weekly snapshots as lines over time. */
export function snapshotFigures(rows: ForecastSnapshotRow[], f: Formats): Figures {
  const weeks = weekTotals(rows);
  const money = (n: number, currency: string) => (currency ? f.money({ amount: n.toFixed(2), currencyCode: currency } as Money) : f.count(n));
  return {
    option: {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 80, right: 24, top: 40, bottom: 40 },
      xAxis: { type: "category", data: weeks.map((w) => w.week) },
      yAxis: valueAxis(f),
      series: [
        { type: "line", name: f.t("reports.snapshots.weighted"), data: weeks.map((w) => w.weighted) },
        { type: "line", name: f.t("reports.snapshots.expected"), data: weeks.map((w) => w.expected) },
      ],
    },
    table: {
      columns: [f.t("reports.snapshots.week"), f.t("reports.snapshots.weighted"), f.t("reports.snapshots.expected")],
      rows: weeks.map((w) => [w.week, money(w.weighted, w.currency), money(w.expected, w.currency)]),
    },
  };
}

/** A value axis labelled as the language writes numbers. */
function valueAxis(f: Formats): ChartOption["yAxis"] {
  return { type: "value", axisLabel: { formatter: (v: number) => f.count(v) } };
}

/** Bars per group (customer or salesperson), one series per measure. */
function bars(keys: string[], measures: { name: string; values: number[] }[], f: Formats): ChartOption {
  return {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 80, right: 24, top: 40, bottom: 60 },
    xAxis: { type: "category", data: keys, axisLabel: { interval: 0, rotate: keys.length > 6 ? 30 : 0 } },
    yAxis: valueAxis(f),
    series: measures.map((m) => ({ type: "bar" as const, name: m.name, data: m.values })),
  };
}

/** Opportunity analysis: expected sales, cost and profit per group; every measure in the table. */
export function analysisFigures(rows: AnalysisRow[], nameOf: (key: string) => string, f: Formats): Figures {
  const names = rows.map((r) => nameOf(r.key));
  return {
    option: bars(names, [
      { name: f.t("reports.analysis.sales"), values: rows.map((r) => amountOf(r.expectedSales)) },
      { name: f.t("reports.analysis.cost"), values: rows.map((r) => amountOf(r.expectedCost)) },
      { name: f.t("reports.analysis.profit"), values: rows.map((r) => amountOf(r.expectedProfit)) },
    ], f),
    table: {
      columns: [
        f.t("reports.analysis.group"),
        f.t("reports.analysis.count"),
        f.t("reports.analysis.sales"),
        f.t("reports.analysis.cost"),
        f.t("reports.analysis.profit"),
        f.t("reports.analysis.margin"),
        f.t("reports.analysis.weighted"),
        f.t("reports.analysis.winRate"),
        f.t("reports.analysis.averageDeal"),
        f.t("reports.analysis.cycleDays"),
      ],
      rows: rows.map((r, i) => [
        names[i],
        f.count(r.count),
        f.money(r.expectedSales),
        f.money(r.expectedCost),
        f.money(r.expectedProfit),
        percent(r.expectedMarginPercent, f),
        f.money(r.opportunityAmount),
        percent(r.winRatePercent, f),
        r.averageDealSize ? f.money(r.averageDealSize) : "—",
        r.averageCycleDays || "—",
      ]),
    },
  };
}

/** Project analysis: actual sales, cost and profit per group, beside the expected sales. */
export function projectFigures(rows: ProjectAnalysisRow[], nameOf: (key: string) => string, f: Formats): Figures {
  const names = rows.map((r) => nameOf(r.expected?.key ?? ""));
  return {
    option: bars(names, [
      { name: f.t("reports.projects.expectedSales"), values: rows.map((r) => amountOf(r.expected?.expectedSales)) },
      { name: f.t("reports.projects.actualSales"), values: rows.map((r) => amountOf(r.actualSales)) },
      { name: f.t("reports.projects.actualCost"), values: rows.map((r) => amountOf(r.actualCost)) },
      { name: f.t("reports.projects.actualProfit"), values: rows.map((r) => amountOf(r.actualProfit)) },
    ], f),
    table: {
      columns: [
        f.t("reports.analysis.group"),
        f.t("reports.analysis.count"),
        f.t("reports.projects.expectedSales"),
        f.t("reports.projects.actualSales"),
        f.t("reports.projects.actualCost"),
        f.t("reports.projects.actualProfit"),
        f.t("reports.projects.actualMargin"),
      ],
      rows: rows.map((r, i) => [
        names[i],
        f.count(r.expected?.count ?? 0n),
        f.money(r.expected?.expectedSales),
        f.money(r.actualSales),
        f.money(r.actualCost),
        f.money(r.actualProfit),
        percent(r.actualMarginPercent, f),
      ]),
    },
  };
}

/** Lead conversion: per group the converted, disqualified and still open leads, stacked. */
export function conversionFigures(rows: LeadConversionRow[], nameOf: (key: string) => string, f: Formats): Figures {
  const names = rows.map((r) => nameOf(r.key));
  const open = rows.map((r) => Number(r.leads - r.converted - r.disqualified));
  const option = bars(names, [
    { name: f.t("reports.leads.converted"), values: rows.map((r) => Number(r.converted)) },
    { name: f.t("reports.leads.disqualified"), values: rows.map((r) => Number(r.disqualified)) },
    { name: f.t("reports.leads.open"), values: open },
  ], f);
  for (const s of (option.series as { stack?: string }[]) ?? []) s.stack = "leads";
  return {
    option,
    table: {
      columns: [
        f.t("reports.analysis.group"),
        f.t("reports.leads.leads"),
        f.t("reports.leads.converted"),
        f.t("reports.leads.disqualified"),
        f.t("reports.leads.rate"),
      ],
      rows: rows.map((r, i) => [names[i], f.count(r.leads), f.count(r.converted), f.count(r.disqualified), percent(r.conversionPercent, f)]),
    },
  };
}

/** The text key of a lead source as the lead conversion report names it (`LEAD_SOURCE_REFERRAL`). */
export function sourceKey(name: string): string {
  const known = ["EVENT", "PHONE_INQUIRY", "REFERRAL", "WEBSITE_FORM", "CAMPAIGN", "IMPORT", "OTHER"];
  const bare = name.replace(/^LEAD_SOURCE_/, "");
  return known.includes(bare) ? `reports.source.${bare.toLowerCase()}` : "reports.source.unspecified";
}
