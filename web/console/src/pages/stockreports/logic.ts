// The stock reports' requests: the stock movement report's filter and parameters, and the CSV
// export's address for each report (`GET /v1/stockReports:export?report=…`), with the same
// parameters as the list on screen.

import { withQuery } from "../../api/rest";

export type MovementClassFilter = "" | "dead" | "slow" | "moving";

export interface MovementQuery {
  warehouseId: string;
  movementClass: MovementClassFilter;
  periodDays: number;
  deadDays: number;
  slowRatio: string;
}

export const MOVEMENT_DEFAULTS: MovementQuery = { warehouseId: "", movementClass: "", periodDays: 90, deadDays: 180, slowRatio: "0.1" };

/** ListStockMovement's filter for a warehouse and a class ("" = any). */
export function movementFilter(q: Pick<MovementQuery, "warehouseId" | "movementClass">): string {
  const terms: string[] = [];
  if (q.warehouseId) terms.push(`warehouse_id = "${q.warehouseId}"`);
  if (q.movementClass) terms.push(`class = "${q.movementClass}"`);
  return terms.join(" AND ");
}

/** Whether a slow ratio is one the service takes: a fraction such as "0.1". */
export function isRatio(s: string): boolean {
  return /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(s.trim());
}

export type ReportName = "LEVELS" | "JOURNAL" | "MOVEMENT" | "COMPARISON" | "LOANS";

/** The export's address of a report, with the parameters of its list. */
export function reportExportUrl(
  report: ReportName,
  params: { filter?: string; periodDays?: number; deadDays?: number; slowRatio?: string; warehouseIds?: string[]; categoryId?: string } = {},
): string {
  return withQuery("/v1/stockReports:export", {
    report: `STOCK_REPORT_${report}`,
    filter: params.filter,
    periodDays: params.periodDays,
    deadDays: params.deadDays,
    slowRatio: params.slowRatio,
    warehouseIds: params.warehouseIds,
    categoryId: params.categoryId,
  });
}

/** The file name of a report's export when the gateway gives none. */
export function reportFileName(report: ReportName): string {
  return `stock-${report.toLowerCase()}.csv`;
}
