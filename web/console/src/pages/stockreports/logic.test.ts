import { describe, expect, it } from "vitest";
import { isRatio, movementFilter, reportExportUrl, reportFileName } from "./logic";

describe("stock reports", () => {
  it("filters the movement report", () => {
    expect(movementFilter({ warehouseId: "", movementClass: "" })).toBe("");
    expect(movementFilter({ warehouseId: "w1", movementClass: "dead" })).toBe('warehouse_id = "w1" AND class = "dead"');
  });

  it("checks the slow ratio", () => {
    expect(isRatio("0.1")).toBe(true);
    expect(isRatio("1")).toBe(true);
    expect(isRatio("1.5")).toBe(false);
    expect(isRatio("abc")).toBe(false);
  });

  it("asks for each report's export with its list's parameters", () => {
    expect(reportExportUrl("LEVELS")).toBe("/v1/stockReports:export?report=STOCK_REPORT_LEVELS");
    expect(reportExportUrl("MOVEMENT", { filter: 'class = "dead"', periodDays: 30, deadDays: 180, slowRatio: "0.1" })).toBe(
      "/v1/stockReports:export?report=STOCK_REPORT_MOVEMENT&filter=class+%3D+%22dead%22&periodDays=30&deadDays=180&slowRatio=0.1",
    );
    expect(reportExportUrl("COMPARISON", { warehouseIds: ["a", "b"], categoryId: "" })).toBe(
      "/v1/stockReports:export?report=STOCK_REPORT_COMPARISON&warehouseIds=a&warehouseIds=b",
    );
    expect(reportFileName("LOANS")).toBe("stock-loans.csv");
  });
});
