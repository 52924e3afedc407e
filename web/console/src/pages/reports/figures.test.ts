import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import type { Money } from "../../gen/crm/common/v1/common_pb.js";
import {
  AnalysisRowSchema,
  ForecastCategory,
  ForecastPeriodTotalSchema,
  ForecastRowSchema,
  ForecastSnapshotRowSchema,
  GetFunnelResponseSchema,
  LeadConversionRowSchema,
  ProjectAnalysisRowSchema,
} from "../../gen/crm/sales/v1/sales_pb.js";
import { analysisFigures, conversionFigures, forecastFigures, funnelFigures, percent, projectFigures, snapshotFigures, sourceKey, weekTotals, type Formats } from "./figures";

const cny = (amount: string) => ({ currencyCode: "CNY", amount });
const formats: Formats = {
  t: (key) => key,
  money: (m: Money | undefined) => (m ? `${m.currencyCode} ${m.amount}` : ""),
  count: (n) => String(n),
};

describe("the funnel", () => {
  const funnel = create(GetFunnelResponseSchema, {
    stages: [
      { stageId: "s1", stageName: "Initial", count: 3n, stuckCount: 1n, expectedAmount: cny("3000.00"), opportunityAmount: cny("300.00"), reachedPercent: "100.00" },
      { stageId: "s2", stageName: "Proposal", count: 1n, stuckCount: 0n, expectedAmount: cny("500.00"), opportunityAmount: cny("250.00"), reachedPercent: "" },
    ],
  });

  it("draws a funnel of the counts in stage order", () => {
    const { option } = funnelFigures(funnel, formats);
    const series = (option.series as { type: string; sort: string; data: { name: string; value: number }[] }[])[0];
    expect(series.type).toBe("funnel");
    expect(series.sort).toBe("none");
    expect(series.data).toEqual([
      { name: "Initial", value: 3 },
      { name: "Proposal", value: 1 },
    ]);
  });

  it("tables every figure per stage", () => {
    const { table } = funnelFigures(funnel, formats);
    expect(table.columns).toHaveLength(6);
    expect(table.rows).toEqual([
      ["Initial", "3", "1", "CNY 3000.00", "CNY 300.00", "100%"],
      ["Proposal", "1", "0", "CNY 500.00", "CNY 250.00", "—"],
    ]);
  });
});

describe("the forecast against quota", () => {
  it("stacks the weighted amounts by category and draws the quota per period", () => {
    const rows = [
      create(ForecastRowSchema, { period: "2026-12", category: ForecastCategory.COMMIT, opportunityAmount: cny("100.50") }),
      create(ForecastRowSchema, { period: "2026-11", category: ForecastCategory.PIPELINE, opportunityAmount: cny("40") }),
      create(ForecastRowSchema, { period: "2026-12", category: ForecastCategory.PIPELINE, opportunityAmount: cny("10") }),
    ];
    const totals = [
      create(ForecastPeriodTotalSchema, { period: "2026-11", opportunityAmount: cny("40.00") }),
      create(ForecastPeriodTotalSchema, { period: "2026-12", opportunityAmount: cny("110.50"), quota: cny("200.00"), attainmentPercent: "55.25" }),
    ];
    const { option, table } = forecastFigures(rows, totals, formats);
    expect(option.xAxis).toMatchObject({ data: ["2026-11", "2026-12"] });
    const series = option.series as { type: string; name: string; data: (number | null)[] }[];
    expect(series.map((s) => [s.type, s.name, s.data])).toEqual([
      ["bar", "reports.category.pipeline", [40, 10]],
      ["bar", "reports.category.commit", [0, 100.5]],
      ["line", "reports.forecast.quota", [null, 200]],
    ]);
    expect(table.rows).toEqual([
      ["2026-11", "CNY 40.00", "—", "—"],
      ["2026-12", "CNY 110.50", "CNY 200.00", "55.25%"],
    ]);
  });
});

describe("the forecast snapshots", () => {
  const rows = [
    create(ForecastSnapshotRowSchema, { week: "2026-11-30", period: "2026-12", category: ForecastCategory.COMMIT, expectedAmount: cny("1000"), opportunityAmount: cny("500") }),
    create(ForecastSnapshotRowSchema, { week: "2026-11-23", period: "2026-12", category: ForecastCategory.PIPELINE, expectedAmount: cny("800"), opportunityAmount: cny("80") }),
    create(ForecastSnapshotRowSchema, { week: "2026-11-30", period: "2027-01", category: ForecastCategory.PIPELINE, expectedAmount: cny("200"), opportunityAmount: cny("20") }),
    create(ForecastSnapshotRowSchema, { week: "2026-11-30", period: "2027-01", category: ForecastCategory.OMITTED, expectedAmount: cny("9999"), opportunityAmount: cny("9999") }),
  ];

  it("sums each week over months and categories, leaving omitted out", () => {
    expect(weekTotals(rows)).toEqual([
      { week: "2026-11-23", weighted: 80, expected: 800, currency: "CNY" },
      { week: "2026-11-30", weighted: 520, expected: 1200, currency: "CNY" },
    ]);
  });

  it("draws a line per amount over the weeks", () => {
    const { option, table } = snapshotFigures(rows, formats);
    expect(option.xAxis).toMatchObject({ data: ["2026-11-23", "2026-11-30"] });
    expect((option.series as { data: number[] }[]).map((s) => s.data)).toEqual([
      [80, 520],
      [800, 1200],
    ]);
    expect(table.rows[1]).toEqual(["2026-11-30", "CNY 520.00", "CNY 1200.00"]);
  });
});

describe("the analyses", () => {
  it("names the groups and shows empty ratios as a dash", () => {
    const rows = [
      create(AnalysisRowSchema, { key: "u1", count: 2n, expectedSales: cny("1000.00"), expectedCost: cny("600.00"), expectedProfit: cny("400.00"), expectedMarginPercent: "40.00", winRatePercent: "" }),
    ];
    const { option, table } = analysisFigures(rows, (k) => (k === "u1" ? "Li Lei" : k), formats);
    expect(option.xAxis).toMatchObject({ data: ["Li Lei"] });
    expect((option.series as { data: number[] }[]).map((s) => s.data)).toEqual([[1000], [600], [400]]);
    expect(table.rows[0].slice(0, 6)).toEqual(["Li Lei", "2", "CNY 1000.00", "CNY 600.00", "CNY 400.00", "40%"]);
    expect(table.rows[0][7]).toBe("—");
    expect(table.rows[0][8]).toBe("—");
  });

  it("puts actual project figures beside the expected sales", () => {
    const rows = [
      create(ProjectAnalysisRowSchema, {
        expected: { key: "c1", count: 1n, expectedSales: cny("900") },
        actualSales: cny("1000"),
        actualCost: cny("700"),
        actualProfit: cny("300"),
        actualMarginPercent: "30.00",
      }),
    ];
    const { option, table } = projectFigures(rows, () => "ACME", formats);
    expect((option.series as { data: number[] }[]).map((s) => s.data)).toEqual([[900], [1000], [700], [300]]);
    expect(table.rows[0]).toEqual(["ACME", "1", "CNY 900", "CNY 1000", "CNY 700", "CNY 300", "30%"]);
  });

  it("stacks converted, disqualified and open leads", () => {
    const rows = [create(LeadConversionRowSchema, { key: "LEAD_SOURCE_REFERRAL", leads: 10n, converted: 3n, disqualified: 2n, conversionPercent: "30.00" })];
    const { option, table } = conversionFigures(rows, (k) => sourceKey(k), formats);
    const series = option.series as { stack: string; data: number[] }[];
    expect(series.map((s) => s.data)).toEqual([[3], [2], [5]]);
    expect(series.every((s) => s.stack === "leads")).toBe(true);
    expect(table.rows[0]).toEqual(["reports.source.referral", "10", "3", "2", "30%"]);
  });

  it("knows the lead sources and percentages", () => {
    expect(sourceKey("LEAD_SOURCE_PHONE_INQUIRY")).toBe("reports.source.phone_inquiry");
    expect(sourceKey("LEAD_SOURCE_UNSPECIFIED")).toBe("reports.source.unspecified");
    expect(percent("", formats)).toBe("—");
    expect(percent("12.50", formats)).toBe("12.5%");
    expect(percent("12.5", { ...formats, count: (n) => new Intl.NumberFormat("es-ES").format(n) })).toBe("12,5%");
  });
});
