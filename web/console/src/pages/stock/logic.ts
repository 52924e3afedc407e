// The stock screens' logic, kept apart from the screens so the tests check it: what each kind
// of document takes (costs, a destination, reservations), the list filters as the service
// reads them, a new document's form rows as CreateStockDocument's request, a refusal's field
// path as the form cell it names, an INSUFFICIENT_STOCK refusal as a sentence, and the refusals
// of serial numbers and lots (SERIAL_IN_STOCK, SERIAL_NOT_IN_STOCK, INSUFFICIENT_LOT) as sentences.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  Bucket,
  DocumentKind,
  DocumentStatus,
  ReservationStatus,
  SerialState,
  Tracking,
  type Product,
  type StockDocumentSchema,
} from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { LANGUAGES, type Language } from "../../i18n/locale";

// ---- Kinds ----

export const INBOUND_KINDS = [DocumentKind.OPENING, DocumentKind.PURCHASE_RECEIPT, DocumentKind.CUSTOMER_RETURN, DocumentKind.OTHER_INBOUND];
export const OUTBOUND_KINDS = [DocumentKind.DELIVERY, DocumentKind.REPAIR_PARTS, DocumentKind.MATERIAL_ISSUE, DocumentKind.OTHER_OUTBOUND];
export const KINDS = [...INBOUND_KINDS, ...OUTBOUND_KINDS, DocumentKind.TRANSFER];

/** Inbound lines name a cost (an outbound or a transfer carries the moving-average cost). */
export function takesCost(kind: DocumentKind | undefined): boolean {
  return kind !== undefined && INBOUND_KINDS.includes(kind);
}

/** Only transfers name a destination and may travel (in transit). */
export function takesDestination(kind: DocumentKind | undefined): boolean {
  return kind === DocumentKind.TRANSFER;
}

/** Only outbound lines ship from a reservation. */
export function takesReservation(kind: DocumentKind | undefined): boolean {
  return kind !== undefined && OUTBOUND_KINDS.includes(kind);
}

/** Deliveries go with a courier and a tracking number. */
export function takesShipping(kind: DocumentKind | undefined): boolean {
  return kind === DocumentKind.DELIVERY;
}

// The short names the list filters take (`kind = "opening"`), which are also the text keys' ends.
const KIND_NAMES: Record<number, string> = {
  [DocumentKind.OPENING]: "opening",
  [DocumentKind.PURCHASE_RECEIPT]: "purchase_receipt",
  [DocumentKind.CUSTOMER_RETURN]: "customer_return",
  [DocumentKind.OTHER_INBOUND]: "other_inbound",
  [DocumentKind.DELIVERY]: "delivery",
  [DocumentKind.REPAIR_PARTS]: "repair_parts",
  [DocumentKind.MATERIAL_ISSUE]: "material_issue",
  [DocumentKind.OTHER_OUTBOUND]: "other_outbound",
  [DocumentKind.TRANSFER]: "transfer",
};
const STATUS_NAMES: Record<number, string> = {
  [DocumentStatus.DRAFT]: "draft",
  [DocumentStatus.IN_TRANSIT]: "in_transit",
  [DocumentStatus.POSTED]: "posted",
  [DocumentStatus.CANCELLED]: "cancelled",
};
const BUCKET_NAMES: Record<number, string> = { [Bucket.STOCK]: "stock", [Bucket.TRANSIT]: "transit" };
const RESERVATION_NAMES: Record<number, string> = {
  [ReservationStatus.ACTIVE]: "active",
  [ReservationStatus.CONSUMED]: "consumed",
  [ReservationStatus.RELEASED]: "released",
};

export const kindName = (kind: DocumentKind): string => KIND_NAMES[kind] ?? "";
export const statusName = (status: DocumentStatus): string => STATUS_NAMES[status] ?? "";
export const bucketName = (bucket: Bucket): string => BUCKET_NAMES[bucket] ?? "";
export const reservationStatusName = (status: ReservationStatus): string => RESERVATION_NAMES[status] ?? "";

export const DOCUMENT_STATUSES = [DocumentStatus.DRAFT, DocumentStatus.IN_TRANSIT, DocumentStatus.POSTED, DocumentStatus.CANCELLED];
export const RESERVATION_STATUSES = [ReservationStatus.ACTIVE, ReservationStatus.CONSUMED, ReservationStatus.RELEASED];
export const BUCKETS = [Bucket.STOCK, Bucket.TRANSIT];

export const kindKey = (kind: DocumentKind): string => `stock.kind.${kindName(kind) || "unknown"}`;
export const statusKey = (status: DocumentStatus): string => `stock.status.${statusName(status) || "unknown"}`;
export const bucketKey = (bucket: Bucket): string => `stock.bucket.${bucketName(bucket) || "unknown"}`;
export const reservationStatusKey = (status: ReservationStatus): string => `stock.reservationStatus.${reservationStatusName(status) || "unknown"}`;

// ---- Filters ----

/** A filter value, quoted (quotes and backslashes dropped: ids and names never hold them). */
const quoted = (v: string) => `"${v.replace(/["\\]/g, "")}"`;

function joined(parts: unknown[]): string {
  return parts.filter((p): p is string => typeof p === "string" && p !== "").join(" AND ");
}

/** ListStockLevels' filter: a warehouse, and only what is under its safety minimum. */
export function levelFilter(warehouseId: string, belowSafety: boolean): string {
  return joined([warehouseId && `warehouse_id = ${quoted(warehouseId)}`, belowSafety && "below_safety = true"]);
}

/** ListStockDocuments' filter. */
export function documentFilter(f: { kind?: DocumentKind; status?: DocumentStatus; warehouseId?: string }): string {
  return joined([
    f.kind && kindName(f.kind) && `kind = ${quoted(kindName(f.kind))}`,
    f.status && statusName(f.status) && `status = ${quoted(statusName(f.status))}`,
    f.warehouseId && `warehouse_id = ${quoted(f.warehouseId)}`,
  ]);
}

/** ListReservations' filter. */
export function reservationFilter(f: { status?: ReservationStatus; warehouseId?: string }): string {
  return joined([
    f.status && reservationStatusName(f.status) && `status = ${quoted(reservationStatusName(f.status))}`,
    f.warehouseId && `warehouse_id = ${quoted(f.warehouseId)}`,
  ]);
}

/** ListLedgerEntries' filter; the time range is from (inclusive) to (exclusive). */
export function ledgerFilter(f: { warehouseId?: string; productId?: string; kind?: DocumentKind; from?: Date; to?: Date }): string {
  return joined([
    f.warehouseId && `warehouse_id = ${quoted(f.warehouseId)}`,
    f.productId && `product_id = ${quoted(f.productId)}`,
    f.kind && kindName(f.kind) && `kind = ${quoted(kindName(f.kind))}`,
    f.from && `post_time >= ${quoted(f.from.toISOString())}`,
    f.to && `post_time < ${quoted(f.to.toISOString())}`,
  ]);
}

// ---- A new document ----

export interface LineValues {
  productId?: string;
  quantity?: string;
  unit?: string;
  unitCost?: string;
  reservationId?: string;
  /** A serial-tracked product: one number per unit. */
  serialNumbers?: string[];
  /** A lot-tracked product: the lot. */
  lot?: string;
}

export interface DocumentValues {
  kind?: DocumentKind;
  warehouseId?: string;
  toWarehouseId?: string;
  inTransit?: boolean;
  reference?: string;
  counterpartyId?: string;
  courier?: string;
  trackingNumber?: string;
  remark?: string;
  lines?: LineValues[];
}

/** The units a line of `product` may be entered in: the stock unit first, then the others. */
export function unitsOf(product: Pick<Product, "unit" | "units"> | undefined): string[] {
  if (!product) return [];
  return [product.unit, ...product.units.map((u) => u.name).filter((n) => n && n !== product.unit)];
}

const text = (v: string | undefined) => (v ?? "").trim();

/** Serial numbers as typed, scanned or pasted: trimmed, empty ones and repeats dropped, in order. */
export function cleanSerials(serials: readonly string[] | undefined): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of serials ?? []) {
    for (const part of raw.split(/[\s,;]+/)) {
      const s = part.trim();
      if (s && !seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
  }
  return out;
}

/** Whether a product's units each carry a serial number. */
export const tracksSerials = (p: Pick<Product, "tracking"> | undefined): boolean => p?.tracking === Tracking.SERIAL;
/** Whether a product's units come in lots. */
export const tracksLots = (p: Pick<Product, "tracking"> | undefined): boolean => p?.tracking === Tracking.LOT;

/**
 * CreateStockDocument's request for the form: only what the kind takes is sent (a cost on
 * inbound lines, a destination on transfers, a reservation on outbound lines, courier and
 * tracking number on deliveries); a cost without currency is in the base currency. Lines the
 * user left wholly empty are dropped; the rest go as entered, so the service's violations name
 * the line the user sees (their index is kept in `lineIndex`).
 */
export function createRequest(values: DocumentValues, post: boolean, requestId: string) {
  const kind = values.kind ?? DocumentKind.UNSPECIFIED;
  const rows = (values.lines ?? [])
    .map((l, i) => ({ l, i }))
    .filter(({ l }) => text(l.productId) || text(l.quantity) || text(l.unitCost) || text(l.reservationId) || cleanSerials(l.serialNumbers).length > 0 || text(l.lot));
  const lines = rows.map(({ l }) => {
    const serialNumbers = cleanSerials(l.serialNumbers);
    return {
      productId: text(l.productId),
      quantity: text(l.quantity),
      unit: text(l.unit),
      unitCost: takesCost(kind) && text(l.unitCost) ? { currencyCode: "", amount: text(l.unitCost) } : undefined,
      reservationId: takesReservation(kind) ? text(l.reservationId) : "",
      // Serial numbers and a lot only where typed: the service names a missing one on the line.
      ...(serialNumbers.length ? { serialNumbers } : {}),
      ...(text(l.lot) ? { lot: text(l.lot) } : {}),
    };
  });
  const transfer = takesDestination(kind);
  const shipping = takesShipping(kind);
  const document: MessageInitShape<typeof StockDocumentSchema> = {
    kind,
    warehouseId: text(values.warehouseId),
    toWarehouseId: transfer ? text(values.toWarehouseId) : "",
    inTransit: transfer ? !!values.inTransit : false,
    reference: text(values.reference),
    counterpartyId: text(values.counterpartyId),
    courier: shipping ? text(values.courier) : "",
    trackingNumber: shipping ? text(values.trackingNumber) : "",
    remark: text(values.remark),
    lines,
  };
  return { request: { document, post, requestId }, lineIndex: rows.map(({ i }) => i) };
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A violation's path (`document.lines[2].quantity`, `document.to_warehouse_id`,
 * `document.lines[0].unit_cost.currency_code`) as the form field it names (`["lines", 2,
 * "quantity"]`, `["toWarehouseId"]`, `["lines", 0, "unitCost"]`); `lineIndex` maps the request's
 * line positions back to the form's rows. Null when the path names nothing on the form.
 */
export function formCellOf(path: string, lineIndex?: number[]): (string | number)[] | null {
  const parts = path.split(".").filter(Boolean);
  if (parts[0] === "document") parts.shift();
  if (parts.length === 0) return null;
  const line = /^lines\[(\d+)\]$/.exec(parts[0]);
  if (line) {
    const at = Number(line[1]);
    const row = lineIndex ? lineIndex[at] : at;
    if (row === undefined) return null;
    const field = parts[1] ? camel(parts[1].replace(/\[\d+\]$/, "")) : "";
    const known = ["productId", "quantity", "unit", "unitCost", "reservationId", "serialNumbers", "lot"];
    return ["lines", row, known.includes(field) ? field : "quantity"];
  }
  if (parts[0] === "lines") return null;
  return [camel(parts[0])];
}

// ---- INSUFFICIENT_STOCK ----

export interface Shortage {
  /** The violation's path (`document.lines[1].quantity`), empty when none was sent. */
  field: string;
  productId: string;
  warehouseId: string;
  onHand: string;
  available: string;
  requested: string;
}

/** The shortage an ErrorInfo's reason and metadata describe, or null for another reason. */
export function shortageOfInfo(reason: string, metadata: Record<string, string>): Shortage | null {
  if (reason !== "INSUFFICIENT_STOCK") return null;
  return {
    field: metadata["field"] ?? "",
    productId: metadata["product_id"] ?? "",
    warehouseId: metadata["warehouse_id"] ?? "",
    onHand: metadata["on_hand"] ?? "",
    available: metadata["available"] ?? "",
    requested: metadata["requested"] ?? "",
  };
}

/** The shortage a refused post carries (FAILED_PRECONDITION INSUFFICIENT_STOCK), or null. */
export function shortageOf(error: unknown): Shortage | null {
  if (!(error instanceof ConnectError)) return null;
  for (const info of error.findDetails(ErrorInfoSchema)) {
    const s = shortageOfInfo(info.reason, info.metadata);
    if (s) return s;
  }
  return null;
}

/** The zero-based line a shortage's field names (`document.lines[1].quantity` → 1), or -1. */
export function shortageLine(s: Shortage): number {
  const m = /lines\[(\d+)\]/.exec(s.field);
  return m ? Number(m[1]) : -1;
}

/**
 * The shortage as a sentence: "Only 23 pcs available of Bolt in Main warehouse (23 on hand);
 * 30 pcs requested." — the text `stock.shortage` filled with the quantities formatted for the
 * language and the names the screen knows (ids when it knows none).
 */
export function shortageSentence(
  t: (key: string, values?: Record<string, string>) => string,
  language: Language,
  s: Shortage,
  names: { product?: string; warehouse?: string; unit?: string },
): string {
  const unit = names.unit ? ` ${names.unit}` : "";
  return t("stock.shortage", {
    available: `${formatQuantity(language, s.available)}${unit}`,
    onHand: `${formatQuantity(language, s.onHand)}${unit}`,
    requested: `${formatQuantity(language, s.requested)}${unit}`,
    product: names.product || s.productId,
    warehouse: names.warehouse || s.warehouseId,
  });
}

// ---- Serial numbers and lots ----

const SERIAL_STATE_NAMES: Record<number, string> = {
  [SerialState.STOCK]: "stock",
  [SerialState.TRANSIT]: "transit",
  [SerialState.LOAN]: "loan",
  [SerialState.GONE]: "gone",
};
export const SERIAL_STATES = [SerialState.STOCK, SerialState.TRANSIT, SerialState.LOAN, SerialState.GONE];
export const serialStateName = (state: SerialState): string => SERIAL_STATE_NAMES[state] ?? "";
export const serialStateKey = (state: SerialState | string): string =>
  `serials.state.${(typeof state === "string" ? state : serialStateName(state)) || "unknown"}`;

/** ListSerialNumbers' filter. */
export function serialFilter(f: { productId?: string; warehouseId?: string; state?: SerialState }): string {
  return joined([
    f.productId && `product_id = ${quoted(f.productId)}`,
    f.warehouseId && `warehouse_id = ${quoted(f.warehouseId)}`,
    f.state && serialStateName(f.state) && `state = ${quoted(serialStateName(f.state))}`,
  ]);
}

/** ListLots' filter: a warehouse, a product, and only the lots with something on hand. */
export function lotFilter(f: { warehouseId?: string; productId?: string; onHandOnly?: boolean }): string {
  return joined([
    f.warehouseId && `warehouse_id = ${quoted(f.warehouseId)}`,
    f.productId && `product_id = ${quoted(f.productId)}`,
    f.onHandOnly && "on_hand > 0",
  ]);
}

/** A refused post over serial numbers or lots, from its ErrorInfo. */
export interface TrackingRefusal {
  reason: "SERIAL_IN_STOCK" | "SERIAL_NOT_IN_STOCK" | "INSUFFICIENT_LOT";
  /** The violation's path (`document.lines[0].serial_numbers[1]`, `document.lines[0].lot`). */
  field: string;
  productId: string;
  serialNumber: string;
  /** Where the serial is now (`stock`, `transit`, `loan`, `gone`), empty when it never came in. */
  state: string;
  warehouseId: string;
  lot: string;
  onHand: string;
  requested: string;
  /** The service's own words. */
  message: string;
}

const TRACKING_REASONS = ["SERIAL_IN_STOCK", "SERIAL_NOT_IN_STOCK", "INSUFFICIENT_LOT"] as const;

/** The refusal an ErrorInfo's reason and metadata describe, or null for another reason. */
export function trackingRefusalOfInfo(reason: string, metadata: Record<string, string>, message = ""): TrackingRefusal | null {
  const known = TRACKING_REASONS.find((r) => r === reason);
  if (!known) return null;
  return {
    reason: known,
    field: metadata["field"] ?? "",
    productId: metadata["product_id"] ?? "",
    serialNumber: metadata["serial_number"] ?? "",
    state: metadata["state"] ?? "",
    warehouseId: metadata["warehouse_id"] ?? "",
    lot: metadata["lot"] ?? "",
    onHand: metadata["on_hand"] ?? "",
    requested: metadata["requested"] ?? "",
    message,
  };
}

/** The serial or lot refusal a refused post carries (FAILED_PRECONDITION), or null. */
export function trackingRefusalOf(error: unknown): TrackingRefusal | null {
  if (!(error instanceof ConnectError)) return null;
  for (const info of error.findDetails(ErrorInfoSchema)) {
    const r = trackingRefusalOfInfo(info.reason, info.metadata, error.rawMessage);
    if (r) return r;
  }
  return null;
}

/**
 * The refusal as a sentence: "Serial SN-1 is already in stock in Main warehouse.", "Serial SN-1
 * is not on these shelves: it left Main warehouse.", "Only 3 of lot L7 on hand; 5 requested."
 */
export function trackingSentence(
  t: (key: string, values?: Record<string, string>) => string,
  language: Language,
  r: TrackingRefusal,
  names: { warehouse?: string; unit?: string },
): string {
  const unit = names.unit ? ` ${names.unit}` : "";
  if (r.reason === "INSUFFICIENT_LOT") {
    return t("serials.refused.lot", {
      lot: r.lot,
      onHand: `${formatQuantity(language, r.onHand || "0")}${unit}`,
      requested: `${formatQuantity(language, r.requested)}${unit}`,
    });
  }
  const where = r.state ? t(`serials.where.${r.state}`, { warehouse: names.warehouse || r.warehouseId }) : t("serials.where.never");
  return t(r.reason === "SERIAL_IN_STOCK" ? "serials.refused.inStock" : "serials.refused.notInStock", { serial: r.serialNumber, where });
}

// ---- Formats ----

const quantityFormats = new Map<string, Intl.NumberFormat>();

/**
 * A quantity (a decimal string, up to 4 places) as the language writes numbers; Intl takes the
 * string as it is (no float in between). Empty stays empty; anything unreadable is shown as sent.
 */
export function formatQuantity(language: Language, quantity: string): string {
  if (!quantity) return "";
  if (!/^-?\d+(\.\d+)?$/.test(quantity)) return quantity;
  const tag = LANGUAGES[language].tag;
  let f = quantityFormats.get(tag);
  if (!f) {
    f = new Intl.NumberFormat(tag, { maximumFractionDigits: 4 });
    quantityFormats.set(tag, f);
  }
  return f.format(quantity as unknown as number);
}

/** Whether a decimal string is negative (a signed ledger quantity), without reading it as a float. */
export function isNegative(quantity: string): boolean {
  return /^-\d*\.?\d*[1-9]/.test(quantity);
}

/** The end of a date-time range picked to the minute: the next minute (the filter's end is exclusive). */
export function endOfMinute(at: Date): Date {
  const d = new Date(at.getTime());
  d.setSeconds(0, 0);
  return new Date(d.getTime() + 60_000);
}
