import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { DocumentKind, DocumentStatus, ProductSchema, ReservationStatus, SerialState, Tracking } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { loadAreas, translate } from "../../i18n/locale";
import {
  cleanSerials,
  createRequest,
  documentFilter,
  lotFilter,
  serialFilter,
  serialStateKey,
  trackingRefusalOf,
  trackingRefusalOfInfo,
  trackingSentence,
  tracksLots,
  tracksSerials,
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

describe("serial numbers and lots", () => {
  it("cleans serial numbers typed, scanned or pasted", () => {
    expect(cleanSerials([" SN1 ", "SN2,SN3", "SN1", "", "SN4\nSN5;SN6\tSN7"])).toEqual(["SN1", "SN2", "SN3", "SN4", "SN5", "SN6", "SN7"]);
    expect(cleanSerials(undefined)).toEqual([]);
  });

  it("tells how a product is tracked", () => {
    expect(tracksSerials(create(ProductSchema, { tracking: Tracking.SERIAL }))).toBe(true);
    expect(tracksSerials(create(ProductSchema, { tracking: Tracking.LOT }))).toBe(false);
    expect(tracksLots(create(ProductSchema, { tracking: Tracking.LOT }))).toBe(true);
    expect(tracksLots(undefined)).toBe(false);
  });

  it("sends a line's serial numbers and lot only when typed", () => {
    const { request } = createRequest(
      { kind: DocumentKind.OPENING, warehouseId: "w", lines: [{ productId: "p", quantity: "2", serialNumbers: ["A", " B ", "A"] }, { productId: "q", quantity: "5", lot: " L7 " }, { productId: "r", quantity: "1" }] },
      true,
      "r",
    );
    expect(request.document.lines?.[0]).toMatchObject({ serialNumbers: ["A", "B"] });
    expect(request.document.lines?.[1]).toMatchObject({ lot: "L7" });
    expect(request.document.lines?.[2]).not.toHaveProperty("serialNumbers");
    expect(request.document.lines?.[2]).not.toHaveProperty("lot");
  });

  it("names a serial's or lot's cell", () => {
    expect(formCellOf("document.lines[1].serial_numbers[2]", [0, 3])).toEqual(["lines", 3, "serialNumbers"]);
    expect(formCellOf("document.lines[0].lot")).toEqual(["lines", 0, "lot"]);
  });

  it("filters serial numbers and lots", () => {
    expect(serialFilter({ productId: "p", warehouseId: "w", state: SerialState.GONE })).toBe('product_id = "p" AND warehouse_id = "w" AND state = "gone"');
    expect(serialFilter({})).toBe("");
    expect(serialStateKey(SerialState.LOAN)).toBe("serials.state.loan");
    expect(lotFilter({ warehouseId: "w", onHandOnly: true })).toBe('warehouse_id = "w" AND on_hand > 0');
    expect(lotFilter({ productId: "p" })).toBe('product_id = "p"');
  });

  it("reads a serial or lot refusal and says it in each language", async () => {
    await loadAreas();
    const notIn = trackingRefusalOfInfo("SERIAL_NOT_IN_STOCK", { field: "document.lines[0].serial_numbers[1]", serial_number: "SN2", product_id: "p", state: "gone", warehouse_id: "w" })!;
    expect(notIn).toMatchObject({ reason: "SERIAL_NOT_IN_STOCK", serialNumber: "SN2", state: "gone", warehouseId: "w" });
    const en = (k: string, v?: Record<string, string>) => translate("en", k, v);
    expect(trackingSentence(en, "en", notIn, { warehouse: "WH-A Main" })).toBe("Serial SN2 is not on these shelves: it left WH-A Main.");
    const inStock = trackingRefusalOfInfo("SERIAL_IN_STOCK", { field: "document.lines[0].serial_numbers[0]", serial_number: "SN1", state: "stock", warehouse_id: "w" })!;
    expect(trackingSentence(en, "en", inStock, { warehouse: "WH-B" })).toBe("Serial SN1 cannot come in: it is in stock at WH-B.");
    const never = trackingRefusalOfInfo("SERIAL_NOT_IN_STOCK", { serial_number: "X" })!;
    expect(trackingSentence(en, "en", never, {})).toBe("Serial X is not on these shelves: it never came in.");
    const lot = trackingRefusalOfInfo("INSUFFICIENT_LOT", { field: "document.lines[0].lot", lot: "L7", on_hand: "3", requested: "5" })!;
    expect(trackingSentence(en, "en", lot, { unit: "kg" })).toBe("Only 3 kg of lot L7 on hand; 5 kg requested.");
    expect(trackingSentence((k, v) => translate("zh", k, v), "zh", lot, {})).toContain("L7");
    expect(trackingRefusalOfInfo("INSUFFICIENT_STOCK", {})).toBeNull();
    const error = new ConnectError("line 1: no", Code.FailedPrecondition, undefined, [{ desc: ErrorInfoSchema, value: { reason: "SERIAL_IN_STOCK", metadata: { serial_number: "S" } } }]);
    expect(trackingRefusalOf(error)?.serialNumber).toBe("S");
    expect(trackingRefusalOf(new Error("x"))).toBeNull();
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
