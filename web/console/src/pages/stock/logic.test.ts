import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { DocumentKind, DocumentStatus, ProductSchema, ReservationStatus } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { loadAreas, translate } from "../../i18n/locale";
import {
  createRequest,
  documentFilter,
  endOfMinute,
  formatQuantity,
  formCellOf,
  isNegative,
  kindKey,
  ledgerFilter,
  levelFilter,
  reservationFilter,
  shortageLine,
  shortageOf,
  shortageOfInfo,
  shortageSentence,
  takesCost,
  takesDestination,
  takesReservation,
  takesShipping,
  unitsOf,
} from "./logic";

describe("what each kind takes", () => {
  it("costs on inbound lines only", () => {
    for (const k of [DocumentKind.OPENING, DocumentKind.PURCHASE_RECEIPT, DocumentKind.CUSTOMER_RETURN, DocumentKind.OTHER_INBOUND]) expect(takesCost(k)).toBe(true);
    for (const k of [DocumentKind.DELIVERY, DocumentKind.MATERIAL_ISSUE, DocumentKind.TRANSFER, undefined]) expect(takesCost(k)).toBe(false);
  });

  it("a destination on transfers, reservations on outbound lines, shipping on deliveries", () => {
    expect(takesDestination(DocumentKind.TRANSFER)).toBe(true);
    expect(takesDestination(DocumentKind.DELIVERY)).toBe(false);
    for (const k of [DocumentKind.DELIVERY, DocumentKind.REPAIR_PARTS, DocumentKind.MATERIAL_ISSUE, DocumentKind.OTHER_OUTBOUND]) expect(takesReservation(k)).toBe(true);
    expect(takesReservation(DocumentKind.TRANSFER)).toBe(false);
    expect(takesReservation(DocumentKind.OPENING)).toBe(false);
    expect(takesShipping(DocumentKind.DELIVERY)).toBe(true);
    expect(takesShipping(DocumentKind.OTHER_OUTBOUND)).toBe(false);
  });

  it("names each kind's text", () => {
    expect(kindKey(DocumentKind.PURCHASE_RECEIPT)).toBe("stock.kind.purchase_receipt");
    expect(kindKey(DocumentKind.UNSPECIFIED)).toBe("stock.kind.unknown");
  });
});

describe("filters", () => {
  it("stock levels by warehouse and below safety", () => {
    expect(levelFilter("", false)).toBe("");
    expect(levelFilter("w1", true)).toBe('warehouse_id = "w1" AND below_safety = true');
    expect(levelFilter("", true)).toBe("below_safety = true");
  });

  it("documents by kind, status and warehouse, in the service's short names", () => {
    expect(documentFilter({})).toBe("");
    expect(documentFilter({ kind: DocumentKind.OTHER_OUTBOUND, status: DocumentStatus.IN_TRANSIT, warehouseId: 'w"1' })).toBe(
      'kind = "other_outbound" AND status = "in_transit" AND warehouse_id = "w1"',
    );
  });

  it("reservations by status", () => {
    expect(reservationFilter({ status: ReservationStatus.ACTIVE })).toBe('status = "active"');
    expect(reservationFilter({ status: ReservationStatus.RELEASED, warehouseId: "w" })).toBe('status = "released" AND warehouse_id = "w"');
  });

  it("the journal by warehouse, product, kind and a half-open time range", () => {
    const from = new Date("2026-12-01T08:00:00Z");
    const to = new Date("2026-12-02T08:00:00Z");
    expect(ledgerFilter({ productId: "p", kind: DocumentKind.TRANSFER, from, to })).toBe(
      'product_id = "p" AND kind = "transfer" AND post_time >= "2026-12-01T08:00:00.000Z" AND post_time < "2026-12-02T08:00:00.000Z"',
    );
    expect(endOfMinute(new Date("2026-12-01T08:05:42.123Z")).toISOString()).toBe("2026-12-01T08:06:00.000Z");
  });
});

describe("a new document's request", () => {
  const lines = [
    { productId: "p1", quantity: " 2 ", unit: "box", unitCost: "24", reservationId: "r1" },
    {},
    { productId: "p2", quantity: "1.5", unit: "", unitCost: "" },
  ];

  it("an inbound sends costs (base currency) and no reservations, empty rows dropped", () => {
    const { request, lineIndex } = createRequest({ kind: DocumentKind.OPENING, warehouseId: "w1", toWarehouseId: "w2", inTransit: true, courier: "SF", lines }, true, "req-1");
    expect(request.post).toBe(true);
    expect(request.requestId).toBe("req-1");
    expect(request.document.toWarehouseId).toBe("");
    expect(request.document.inTransit).toBe(false);
    expect(request.document.courier).toBe("");
    expect(request.document.lines).toEqual([
      { productId: "p1", quantity: "2", unit: "box", unitCost: { currencyCode: "", amount: "24" }, reservationId: "" },
      { productId: "p2", quantity: "1.5", unit: "", unitCost: undefined, reservationId: "" },
    ]);
    expect(lineIndex).toEqual([0, 2]);
  });

  it("an outbound sends reservations and no costs; a delivery its courier", () => {
    const { request } = createRequest({ kind: DocumentKind.DELIVERY, warehouseId: "w1", courier: " SF ", trackingNumber: "123", lines }, false, "r");
    expect(request.post).toBe(false);
    expect(request.document.courier).toBe("SF");
    expect(request.document.trackingNumber).toBe("123");
    expect(request.document.lines?.[0]).toEqual({ productId: "p1", quantity: "2", unit: "box", unitCost: undefined, reservationId: "r1" });
  });

  it("a transfer sends its destination and whether it travels", () => {
    const { request } = createRequest({ kind: DocumentKind.TRANSFER, warehouseId: "w1", toWarehouseId: "w2", inTransit: true, lines }, true, "r");
    expect(request.document.toWarehouseId).toBe("w2");
    expect(request.document.inTransit).toBe(true);
    expect(request.document.lines?.[0]?.unitCost).toBeUndefined();
    expect(request.document.lines?.[0]?.reservationId).toBe("");
  });

  it("offers the stock unit first, then the others", () => {
    const p = create(ProductSchema, { unit: "pcs", units: [{ name: "box", factor: "12" }, { name: "pcs", factor: "1" }] });
    expect(unitsOf(p)).toEqual(["pcs", "box"]);
    expect(unitsOf(undefined)).toEqual([]);
  });
});

describe("violations on the form", () => {
  it("puts a line's violation on its cell, mapped back to the form's row", () => {
    expect(formCellOf("document.lines[2].quantity")).toEqual(["lines", 2, "quantity"]);
    expect(formCellOf("document.lines[1].product_id", [0, 2])).toEqual(["lines", 2, "productId"]);
    expect(formCellOf("document.lines[0].unit_cost.currency_code")).toEqual(["lines", 0, "unitCost"]);
    expect(formCellOf("document.lines[0].reservation_id")).toEqual(["lines", 0, "reservationId"]);
    expect(formCellOf("document.lines[5].quantity", [0])).toBeNull();
  });

  it("puts a header's violation on its field", () => {
    expect(formCellOf("document.to_warehouse_id")).toEqual(["toWarehouseId"]);
    expect(formCellOf("document.in_transit")).toEqual(["inTransit"]);
    expect(formCellOf("minimum")).toEqual(["minimum"]);
    expect(formCellOf("document.lines")).toBeNull();
    expect(formCellOf("")).toBeNull();
  });
});

describe("a shortage of stock", () => {
  const metadata = { field: "document.lines[1].quantity", product_id: "p1", warehouse_id: "w1", on_hand: "24", available: "20", requested: "30" };

  it("is read from the refusal's ErrorInfo", () => {
    const error = new ConnectError("line 2: 30 of product p1 requested", Code.FailedPrecondition, undefined, [
      { desc: ErrorInfoSchema, value: { reason: "INSUFFICIENT_STOCK", domain: "crm", metadata } },
    ]);
    const s = shortageOf(error);
    expect(s).toEqual({ field: "document.lines[1].quantity", productId: "p1", warehouseId: "w1", onHand: "24", available: "20", requested: "30" });
    expect(shortageLine(s!)).toBe(1);
    expect(shortageOf(new ConnectError("no", Code.FailedPrecondition))).toBeNull();
    expect(shortageOf(new Error("x"))).toBeNull();
    expect(shortageOfInfo("NEGATIVE", {})).toBeNull();
    expect(shortageLine({ ...s!, field: "" })).toBe(-1);
  });

  it("reads as a sentence in each language", async () => {
    await loadAreas();
    const s = shortageOfInfo("INSUFFICIENT_STOCK", { ...metadata, on_hand: "1234.5" })!;
    const names = { product: "BOLT Bolt", warehouse: "WH-A Main", unit: "pcs" };
    expect(shortageSentence((k, v) => translate("en", k, v), "en", s, names)).toBe("Only 20 pcs of BOLT Bolt available in WH-A Main (1,234.5 pcs on hand); 30 pcs requested.");
    expect(shortageSentence((k, v) => translate("zh", k, v), "zh", s, names)).toContain("仅可用 20 pcs");
    expect(shortageSentence((k, v) => translate("en", k, v), "en", s, {})).toContain("of p1 available in w1");
  });
});

describe("quantities", () => {
  it("formats decimal strings exactly, by language", () => {
    expect(formatQuantity("en", "1234567.1234")).toBe("1,234,567.1234");
    expect(formatQuantity("en", "24.0000")).toBe("24");
    expect(formatQuantity("en", "-4")).toBe("-4");
    expect(formatQuantity("es", "1234.5")).toMatch(/^1\.?234,5$/);
    expect(formatQuantity("en", "12345678901234567.0001")).toBe("12,345,678,901,234,567.0001");
    expect(formatQuantity("en", "")).toBe("");
    expect(formatQuantity("en", "n/a")).toBe("n/a");
  });

  it("tells a negative quantity without floats", () => {
    expect(isNegative("-4")).toBe(true);
    expect(isNegative("-0.0001")).toBe(true);
    expect(isNegative("-0")).toBe(false);
    expect(isNegative("4")).toBe(false);
  });
});
