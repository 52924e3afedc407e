// The stocktake and loan screens' logic, kept apart from the screens so the tests check it:
// decimal strings compared without floats, which counts on a sheet changed and the RecordCounts
// request they make, a posted line explained, the list filters as the service reads them, a loan
// action's defaults and request, a new loan as CreateStockDocument's request, and the refusals
// (ALREADY_COUNTING, LOAN_NOT_OUT, INSUFFICIENT_STOCK) read from their ErrorInfo and told as
// sentences.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  CounterpartyKind,
  DocumentKind,
  LoanStatus,
  StocktakeStatus,
  type CreateStockDocumentRequestSchema,
  type Loan,
  type RecordCountsRequestSchema,
  type StocktakeLine,
} from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { LANGUAGES, type Language } from "../../i18n/locale";

type T = (key: string, values?: Record<string, string>) => string;

// ---- Decimal strings ----

/**
 * A decimal string in its shortest form ("09.50" → "9.5", "-0" → "0", " 3. " → "3"), so two
 * spellings of one quantity compare equal as strings; null when it is not a decimal number.
 */
export function normalDecimal(value: string): string | null {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const whole = m[2].replace(/^0+(?=\d)/, "") || "0";
  const fraction = (m[3] ?? "").replace(/0+$/, "");
  const abs = fraction ? `${whole}.${fraction}` : whole;
  return m[1] && abs !== "0" ? `-${abs}` : abs;
}

/** Whether a decimal string is above zero, below it, or zero (no float in between). */
export function signOf(value: string): -1 | 0 | 1 {
  const n = normalDecimal(value);
  if (n === null || n === "0") return 0;
  return n.startsWith("-") ? -1 : 1;
}

const quantityFormats = new Map<string, Intl.NumberFormat>();

/**
 * A quantity as the language writes numbers (up to 4 places; Intl takes the string as it is);
 * `signed` shows a plus on gains (an adjustment, what moved). Empty stays empty; anything
 * unreadable is shown as sent.
 */
export function formatQty(language: Language, quantity: string, signed = false): string {
  const n = normalDecimal(quantity);
  if (n === null) return quantity.trim();
  const tag = LANGUAGES[language].tag;
  const key = `${tag}:${signed}`;
  let f = quantityFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(tag, { maximumFractionDigits: 4, signDisplay: signed ? "exceptZero" : "auto" });
    quantityFormats.set(key, f);
  }
  return f.format(n as unknown as number);
}

// ---- Names and filters ----

const STOCKTAKE_STATUS_NAMES: Record<number, string> = {
  [StocktakeStatus.COUNTING]: "counting",
  [StocktakeStatus.POSTED]: "posted",
  [StocktakeStatus.CANCELLED]: "cancelled",
};
export const STOCKTAKE_STATUSES = [StocktakeStatus.COUNTING, StocktakeStatus.POSTED, StocktakeStatus.CANCELLED];
export const stocktakeStatusName = (s: StocktakeStatus): string => STOCKTAKE_STATUS_NAMES[s] ?? "";
export const stocktakeStatusKey = (s: StocktakeStatus): string => `counting.status.${stocktakeStatusName(s) || "unknown"}`;

export const loanStatusKey = (s: LoanStatus): string =>
  s === LoanStatus.OPEN ? "loans.status.open" : s === LoanStatus.CLOSED ? "loans.status.closed" : "loans.status.unknown";

export const borrowerKindKey = (k: CounterpartyKind): string =>
  k === CounterpartyKind.CUSTOMER ? "loans.borrower.customer" : k === CounterpartyKind.EMPLOYEE ? "loans.borrower.employee" : k === CounterpartyKind.SUPPLIER ? "loans.borrower.supplier" : "loans.borrower.unknown";

/** A filter value, quoted (quotes and backslashes dropped: ids, names and dates never hold them). */
const quoted = (v: string) => `"${v.replace(/["\\]/g, "")}"`;
const joined = (parts: unknown[]) => parts.filter((p): p is string => typeof p === "string" && p !== "").join(" AND ");

/** ListStocktakes' filter: a status and a warehouse. */
export function stocktakeFilter(f: { status?: StocktakeStatus; warehouseId?: string }): string {
  return joined([
    f.status && stocktakeStatusName(f.status) && `status = ${quoted(stocktakeStatusName(f.status))}`,
    f.warehouseId && `warehouse_id = ${quoted(f.warehouseId)}`,
  ]);
}

export type LoanStatusFilter = "" | "open" | "closed";

/** ListLoans' filter: open or closed, a borrower, a warehouse, due before a day (YYYY-MM-DD). */
export function loanFilter(f: { status?: LoanStatusFilter; counterpartyId?: string; warehouseId?: string; dueBefore?: string }): string {
  const borrower = (f.counterpartyId ?? "").trim();
  const due = (f.dueBefore ?? "").trim();
  return joined([
    f.status && `status = ${quoted(f.status)}`,
    borrower && `counterparty_id = ${quoted(borrower)}`,
    f.warehouseId && `warehouse_id = ${quoted(f.warehouseId)}`,
    /^\d{4}-\d{2}-\d{2}$/.test(due) && `due_date < ${quoted(due)}`,
  ]);
}

/** A calendar day as YYYY-MM-DD, in the browser's time zone (what a date picker shows). */
export function isoDay(at: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}`;
}

// ---- A new stocktake ----

export type StocktakeScope = "all" | "products" | "category";

export interface StocktakeValues {
  warehouseId?: string;
  scope?: StocktakeScope;
  productIds?: string[];
  categoryId?: string;
  remark?: string;
}

/** CreateStocktake's request: the products named, or a category, or neither (everything with stock). */
export function createStocktakeRequest(values: StocktakeValues, requestId: string) {
  const scope = values.scope ?? "all";
  return {
    warehouseId: values.warehouseId ?? "",
    productIds: scope === "products" ? [...new Set(values.productIds ?? [])] : [],
    categoryId: scope === "category" ? (values.categoryId ?? "") : "",
    remark: (values.remark ?? "").trim(),
    requestId,
  };
}

// ---- Counting ----

export interface ChangedCount {
  productId: string;
  /** As entered (trimmed): the service judges it, and its violation lands on the row. */
  countedQuantity: string;
}

/**
 * The rows whose entered count differs from the one on the sheet, in sheet order. Counts are
 * compared as normalised decimal strings ("10.0" is "10"); a cell left empty or untouched is no
 * change (a count, once entered, is replaced, never cleared).
 */
export function changedCounts(lines: Pick<StocktakeLine, "productId" | "countedQuantity">[], edits: Record<string, string>): ChangedCount[] {
  const changed: ChangedCount[] = [];
  for (const line of lines) {
    const edit = edits[line.productId];
    if (edit === undefined) continue;
    const entered = edit.trim();
    if (!entered) continue;
    const before = normalDecimal(line.countedQuantity) ?? line.countedQuantity.trim();
    const after = normalDecimal(entered) ?? entered;
    if (after !== before) changed.push({ productId: line.productId, countedQuantity: entered });
  }
  return changed;
}

/** RecordCounts' request for the changed rows (in the stock unit). */
export function recordCountsRequest(id: string, changed: ChangedCount[], requestId: string): MessageInitShape<typeof RecordCountsRequestSchema> {
  return { id, counts: changed.map((c) => ({ productId: c.productId, countedQuantity: c.countedQuantity, unit: "" })), requestId };
}

/**
 * The violations of a refused RecordCounts by product: `counts[i].counted_quantity` names the
 * i-th count sent, which is the i-th changed row. Violations naming no count are left out.
 */
export function countViolations(violations: { field: string; description: string }[], changed: ChangedCount[]): Map<string, string> {
  const byProduct = new Map<string, string>();
  for (const v of violations) {
    const m = /^counts\[(\d+)\]/.exec(v.field);
    const row = m ? changed[Number(m[1])] : undefined;
    if (!row) continue;
    const before = byProduct.get(row.productId);
    byProduct.set(row.productId, before ? `${before}; ${v.description}` : v.description);
  }
  return byProduct;
}

/** The lines counted so far and the lines on the sheet. */
export function countProgress(lines: Pick<StocktakeLine, "countedQuantity">[]): { counted: number; total: number } {
  return { counted: lines.filter((l) => l.countedQuantity !== "").length, total: lines.length };
}

/**
 * A posted line in one sentence: what was counted against the book at the freeze, the
 * adjustment that made, what moved meanwhile (kept; left out when nothing did) and what is on
 * hand after; or that an uncounted line changed nothing.
 */
export function postedLineSentence(t: T, language: Language, line: Pick<StocktakeLine, "bookQuantity" | "countedQuantity" | "movedQuantity" | "adjustment" | "onHandAfter" | "unit">): string {
  if (line.countedQuantity === "") return t("counting.posted.uncounted");
  const q = (v: string, signed = false) => `${formatQty(language, v || "0", signed)} ${line.unit}`.trim();
  if (signOf(line.movedQuantity) === 0) {
    return t("counting.posted.lineStill", { counted: q(line.countedQuantity), book: q(line.bookQuantity), adjustment: q(line.adjustment, true), after: q(line.onHandAfter) });
  }
  return t("counting.posted.line", {
    counted: q(line.countedQuantity),
    book: q(line.bookQuantity),
    adjustment: q(line.adjustment, true),
    moved: q(line.movedQuantity, true),
    after: q(line.onHandAfter),
  });
}

// ---- Loans ----

export interface ReturnValues {
  quantity?: string;
  remark?: string;
  /** A serial-tracked loan: the units coming back. */
  serialNumbers?: string[];
}

export interface SellValues {
  quantity?: string;
  reference?: string;
  /** A serial-tracked loan: the units sold. */
  serialNumbers?: string[];
}

type LoanOut = Pick<Loan, "outstanding"> & Partial<Pick<Loan, "serialNumbers">>;

/** The serial numbers still out, as a form's default (absent for loans without them). */
const serialsOut = (loan: LoanOut) => (loan.serialNumbers?.length ? { serialNumbers: [...loan.serialNumbers] } : {});

/** The serial numbers picked and the quantity they make (absent when none were picked: the quantity as typed). */
function picked(values: { quantity?: string; serialNumbers?: string[] }) {
  const serials = (values.serialNumbers ?? []).map((s) => s.trim()).filter(Boolean);
  return serials.length ? { quantity: String(serials.length), serialNumbers: serials } : { quantity: (values.quantity ?? "").trim() };
}

/** A return's form as it opens: everything still out (every serial still out), no remark. */
export function returnDefaults(loan: LoanOut): ReturnValues {
  return { quantity: loan.outstanding, remark: "", ...serialsOut(loan) };
}

/** A sale's form as it opens: everything still out (every serial still out), no reference. */
export function sellDefaults(loan: LoanOut): SellValues {
  return { quantity: loan.outstanding, reference: "", ...serialsOut(loan) };
}

/** ReturnLoan's request (an empty quantity takes back everything still out; serials picked, those). */
export function returnRequest(loan: Pick<Loan, "id">, values: ReturnValues, requestId: string) {
  const { quantity, ...serials } = picked(values);
  return { id: loan.id, quantity, remark: (values.remark ?? "").trim(), requestId, ...serials };
}

/** SellLoan's request (an empty quantity sells everything still out; serials picked, those). */
export function sellRequest(loan: Pick<Loan, "id">, values: SellValues, requestId: string) {
  const { quantity, ...serials } = picked(values);
  return { id: loan.id, quantity, reference: (values.reference ?? "").trim(), requestId, ...serials };
}

export type BorrowerKind = "customer" | "employee";

export interface LendLine {
  productId?: string;
  quantity?: string;
  unit?: string;
  /** A serial-tracked product: one number per unit lent. */
  serialNumbers?: string[];
  /** A lot-tracked product: the lot lent. */
  lot?: string;
}

export interface LendValues {
  warehouseId?: string;
  borrowerKind?: BorrowerKind;
  customerId?: string;
  employeeId?: string;
  dueDate?: string;
  sample?: boolean;
  reference?: string;
  remark?: string;
  lines?: LendLine[];
}

/**
 * CreateStockDocument's request for goods lent: a LOAN_OUT document posted at once, the borrower
 * (a customer's id or an employee) as its counterparty. Wholly empty lines are dropped; the
 * request's line positions map back to the form's rows through `lineIndex`.
 */
export function lendRequest(values: LendValues, requestId: string) {
  const kind = values.borrowerKind ?? "customer";
  const rows = (values.lines ?? []).map((l, i) => ({ l, i })).filter(({ l }) => (l.productId ?? "").trim() || (l.quantity ?? "").trim());
  const document: MessageInitShape<typeof CreateStockDocumentRequestSchema>["document"] = {
    kind: DocumentKind.LOAN_OUT,
    warehouseId: values.warehouseId ?? "",
    counterpartyKind: kind === "employee" ? CounterpartyKind.EMPLOYEE : CounterpartyKind.CUSTOMER,
    counterpartyId: ((kind === "employee" ? values.employeeId : values.customerId) ?? "").trim(),
    dueDate: (values.dueDate ?? "").trim(),
    sample: !!values.sample,
    reference: (values.reference ?? "").trim(),
    remark: (values.remark ?? "").trim(),
    lines: rows.map(({ l }) => {
      const serialNumbers = (l.serialNumbers ?? []).map((s) => s.trim()).filter(Boolean);
      const lot = (l.lot ?? "").trim();
      return {
        productId: (l.productId ?? "").trim(),
        quantity: (l.quantity ?? "").trim(),
        unit: (l.unit ?? "").trim(),
        ...(serialNumbers.length ? { serialNumbers } : {}),
        ...(lot ? { lot } : {}),
      };
    }),
  };
  return { request: { document, post: true, requestId }, lineIndex: rows.map(({ i }) => i) };
}

/**
 * A violation's path of the lend request (`document.lines[1].quantity`, `document.due_date`,
 * `document.counterparty_id`) as the form field it names; null when it names none.
 */
export function lendFieldOf(path: string, lineIndex: number[], borrowerKind: BorrowerKind): (string | number)[] | null {
  const parts = path.split(".").filter(Boolean);
  if (parts[0] === "document") parts.shift();
  const line = /^lines\[(\d+)\]$/.exec(parts[0] ?? "");
  if (line) {
    const row = lineIndex[Number(line[1])];
    if (row === undefined) return null;
    const name = (parts[1] ?? "").replace(/\[\d+\]$/, "");
    const field = name === "product_id" ? "productId" : name === "unit" ? "unit" : name === "serial_numbers" ? "serialNumbers" : name === "lot" ? "lot" : "quantity";
    return ["lines", row, field];
  }
  switch (parts[0]) {
    case "warehouse_id":
      return ["warehouseId"];
    case "counterparty_id":
    case "counterparty_kind":
      return [borrowerKind === "employee" ? "employeeId" : "customerId"];
    case "due_date":
      return ["dueDate"];
    case "reference":
      return ["reference"];
    case "remark":
      return ["remark"];
    default:
      return null;
  }
}

// ---- Refusals ----

/** The metadata of the first ErrorInfo with `reason` a refused call carries, or null. */
export function errorInfoOf(error: unknown, reason: string): Record<string, string> | null {
  if (!(error instanceof ConnectError)) return null;
  for (const info of error.findDetails(ErrorInfoSchema)) if (info.reason === reason) return { ...info.metadata };
  return null;
}

/** The open stocktake an ALREADY_COUNTING refusal names (its id), or null. */
export function alreadyCountingOf(error: unknown): string | null {
  const m = errorInfoOf(error, "ALREADY_COUNTING");
  return m ? (m["stocktake_id"] ?? "") : null;
}

export interface NotOut {
  outstanding: string;
  requested: string;
}

/** What a LOAN_NOT_OUT refusal says: how much is still out, how much was asked for. */
export function notOutOf(error: unknown): NotOut | null {
  const m = errorInfoOf(error, "LOAN_NOT_OUT");
  return m ? { outstanding: m["outstanding"] ?? "", requested: m["requested"] ?? "" } : null;
}

export function notOutSentence(t: T, language: Language, n: NotOut, unit = ""): string {
  const q = (v: string) => `${formatQty(language, v || "0")}${unit ? ` ${unit}` : ""}`;
  return t("loans.refused.notOut", { outstanding: q(n.outstanding), requested: q(n.requested) });
}

export interface LendShortage {
  field: string;
  productId: string;
  onHand: string;
  available: string;
  requested: string;
}

/** What an INSUFFICIENT_STOCK refusal of a loan says, or null. */
export function lendShortageOf(error: unknown): LendShortage | null {
  const m = errorInfoOf(error, "INSUFFICIENT_STOCK");
  if (!m) return null;
  return { field: m["field"] ?? "", productId: m["product_id"] ?? "", onHand: m["on_hand"] ?? "", available: m["available"] ?? "", requested: m["requested"] ?? "" };
}

/** The request line a shortage names (`document.lines[1].quantity` → 1), or -1. */
export function shortageLineOf(s: LendShortage): number {
  const m = /lines\[(\d+)\]/.exec(s.field);
  return m ? Number(m[1]) : -1;
}

export function lendShortageSentence(t: T, language: Language, s: LendShortage, unit = ""): string {
  const q = (v: string) => `${formatQty(language, v || "0")}${unit ? ` ${unit}` : ""}`;
  return t("loans.refused.shortage", { available: q(s.available), onHand: q(s.onHand), requested: q(s.requested) });
}
