import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { PriceListKind, PriceListSchema, PriceListStatus } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { isPrice, priceListFilter, priceListOf, updateRequest, validity, valuesOf } from "./logic";

describe("price lists", () => {
  it("filters by kind and status", () => {
    expect(priceListFilter("", "")).toBe("");
    expect(priceListFilter("level", "active")).toBe('kind = "level" AND status = "active"');
    expect(priceListFilter("", "inactive")).toBe('status = "inactive"');
  });

  it("keeps the level of a level list and the customers of a named one", () => {
    const v = { name: " VIP ", kind: PriceListKind.LEVEL, customerLevel: "A", customerIds: ["c1"], validFrom: "", validUntil: "", status: PriceListStatus.ACTIVE, remark: "" };
    expect(priceListOf(v)).toMatchObject({ name: "VIP", customerLevel: "A", customerIds: [] });
    expect(priceListOf({ ...v, kind: PriceListKind.NAMED })).toMatchObject({ customerLevel: "", customerIds: ["c1"] });
  });

  it("updates what changed, against the etag", () => {
    const p = create(PriceListSchema, { id: "l1", etag: "v2", name: "VIP", kind: PriceListKind.LEVEL, customerLevel: "A", validFrom: "2026-01-01", status: PriceListStatus.ACTIVE });
    expect(updateRequest(p, valuesOf(p))).toBeNull();
    const r = updateRequest(p, { ...valuesOf(p), validUntil: "2026-12-31", status: PriceListStatus.INACTIVE });
    expect(r?.updateMask.paths).toEqual(["valid_until", "status"]);
    expect(r?.priceList).toMatchObject({ id: "l1", etag: "v2", validUntil: "2026-12-31" });
  });

  it("writes validity and checks prices", () => {
    expect(validity({ validFrom: "2026-01-01", validUntil: "" }, "open")).toBe("2026-01-01 – open");
    expect(isPrice("12.50")).toBe(true);
    expect(isPrice("1,5")).toBe(false);
    expect(isPrice("")).toBe(false);
  });
});
