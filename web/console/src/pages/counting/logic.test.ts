import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { CounterpartyKind, DocumentKind, LoanSchema, StocktakeLineSchema, StocktakeStatus } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import {
  alreadyCountingOf,
  changedCounts,
  countProgress,
  countViolations,
  createStocktakeRequest,
  formatQty,
  isoDay,
  lendFieldOf,
  lendRequest,
  lendShortageOf,
  lendShortageSentence,
  loanFilter,
  normalDecimal,
  notOutOf,
  notOutSentence,
  postedLineSentence,
  recordCountsRequest,
  returnDefaults,
  returnRequest,
  sellDefaults,
  sellRequest,
  shortageLineOf,
  signOf,
  stocktakeFilter,
  stocktakeStatusKey,
} from "./logic";

/** Texts as `key{name=value,...}`, so a test sees which text and which values were used. */
const t = (key: string, values: Record<string, string> = {}) =>
  `${key}{${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(",")}}`;

const refusal = (reason: string, metadata: Record<string, string>) =>
  new ConnectError("refused", Code.FailedPrecondition, undefined, [{ desc: ErrorInfoSchema, value: { reason, domain: "crm", metadata } }]);

describe("decimal strings", () => {
  it("normalises spellings of one quantity to one string", () => {
    expect(normalDecimal("10")).toBe("10");
    expect(normalDecimal("010.500")).toBe("10.5");
    expect(normalDecimal(" 3. ")).toBe("3");
    expect(normalDecimal(".25")).toBe("0.25");
    expect(normalDecimal("-0.0")).toBe("0");
    expect(normalDecimal("-2")).toBe("-2");
    expect(normalDecimal("0")).toBe("0");
    expect(normalDecimal("")).toBeNull();
    expect(normalDecimal("abc")).toBeNull();
    expect(normalDecimal("1,5")).toBeNull();
    expect(normalDecimal(".")).toBeNull();
  });

  it("tells the sign without reading a float", () => {
    expect(signOf("-0.0001")).toBe(-1);
    expect(signOf("0.000")).toBe(0);
    expect(signOf("12345678901234567890.0001")).toBe(1);
    expect(signOf("x")).toBe(0);
  });

  it("formats quantities for the language, signed when asked", () => {
    expect(formatQty("en", "1234.5")).toBe("1,234.5");
    expect(formatQty("es", "1234.5")).toMatch(/^1\.?234,5$/);
    expect(formatQty("en", "-2", true)).toBe("-2");
    expect(formatQty("en", "3", true)).toBe("+3");
    expect(formatQty("en", "0", true)).toBe("0");
    expect(formatQty("en", "")).toBe("");
    expect(formatQty("en", "n/a")).toBe("n/a");
    // Exact beyond a float's precision.
    expect(formatQty("en", "12345678901234567.0001")).toBe("12,345,678,901,234,567.0001");
  });
});

describe("filters", () => {
  it("builds the stocktake list filter", () => {
    expect(stocktakeFilter({})).toBe("");
    expect(stocktakeFilter({ status: StocktakeStatus.COUNTING })).toBe('status = "counting"');
    expect(stocktakeFilter({ status: StocktakeStatus.POSTED, warehouseId: "w1" })).toBe('status = "posted" AND warehouse_id = "w1"');
    expect(stocktakeStatusKey(StocktakeStatus.CANCELLED)).toBe("counting.status.cancelled");
    expect(stocktakeStatusKey(StocktakeStatus.UNSPECIFIED)).toBe("counting.status.unknown");
  });

  it("builds the loan list filter, due dates only as YYYY-MM-DD", () => {
    expect(loanFilter({})).toBe("");
    expect(loanFilter({ status: "open", counterpartyId: ' c"1 ', warehouseId: "w", dueBefore: "2026-12-04" })).toBe(
      'status = "open" AND counterparty_id = "c1" AND warehouse_id = "w" AND due_date < "2026-12-04"',
    );
    expect(loanFilter({ dueBefore: "tomorrow" })).toBe("");
    expect(isoDay(new Date(2026, 0, 5))).toBe("2026-01-05");
  });
});

describe("a new stocktake", () => {
  it("sends the products, or the category, or neither", () => {
    const values = { warehouseId: "w", productIds: ["a", "b", "a"], categoryId: "c", remark: " year end " };
    expect(createStocktakeRequest({ ...values, scope: "products" }, "r")).toEqual({ warehouseId: "w", productIds: ["a", "b"], categoryId: "", remark: "year end", requestId: "r" });
    expect(createStocktakeRequest({ ...values, scope: "category" }, "r")).toMatchObject({ productIds: [], categoryId: "c" });
    expect(createStocktakeRequest({ ...values, scope: "all" }, "r")).toMatchObject({ productIds: [], categoryId: "" });
  });
});

describe("counting", () => {
  const line = (productId: string, countedQuantity: string) => create(StocktakeLineSchema, { productId, countedQuantity, bookQuantity: "10" });
  const lines = [line("a", ""), line("b", "10"), line("c", "5"), line("d", "")];

  it("finds only the rows whose count changed, compared as normalised strings", () => {
    const changed = changedCounts(lines, { a: " 9 ", b: "10.00", c: "4.5", d: "" });
    expect(changed).toEqual([
      { productId: "a", countedQuantity: "9" },
      { productId: "c", countedQuantity: "4.5" },
    ]);
    expect(changedCounts(lines, {})).toEqual([]);
    // A malformed entry is a change (the service refuses it on its row).
    expect(changedCounts(lines, { b: "ten" })).toEqual([{ productId: "b", countedQuantity: "ten" }]);
  });

  it("builds RecordCounts with the changed rows in the stock unit", () => {
    const changed = changedCounts(lines, { a: "9", c: "6" });
    expect(recordCountsRequest("st1", changed, "r1")).toEqual({
      id: "st1",
      counts: [
        { productId: "a", countedQuantity: "9", unit: "" },
        { productId: "c", countedQuantity: "6", unit: "" },
      ],
      requestId: "r1",
    });
  });

  it("puts each count's violation on its row", () => {
    const changed = changedCounts(lines, { a: "x", c: "-1" });
    const byRow = countViolations(
      [
        { field: "counts[0].counted_quantity", description: "must be a decimal number" },
        { field: "counts[1].counted_quantity", description: "must not be negative" },
        { field: "counts[7].counted_quantity", description: "no such row" },
        { field: "id", description: "elsewhere" },
      ],
      changed,
    );
    expect([...byRow]).toEqual([
      ["a", "must be a decimal number"],
      ["c", "must not be negative"],
    ]);
  });

  it("counts the lines counted", () => {
    expect(countProgress(lines)).toEqual({ counted: 2, total: 4 });
  });

  it("explains a posted line: counted against the freeze, what moved kept", () => {
    const posted = create(StocktakeLineSchema, { unit: "pcs", bookQuantity: "5", countedQuantity: "5", movedQuantity: "-2", adjustment: "0", onHandAfter: "3" });
    expect(postedLineSentence(t, "en", posted)).toBe("counting.posted.line{counted=5 pcs,book=5 pcs,adjustment=0 pcs,moved=-2 pcs,after=3 pcs}");
    const short = create(StocktakeLineSchema, { unit: "pcs", bookQuantity: "10", countedQuantity: "9", movedQuantity: "0", adjustment: "-1", onHandAfter: "9" });
    expect(postedLineSentence(t, "en", short)).toBe("counting.posted.lineStill{counted=9 pcs,book=10 pcs,adjustment=-1 pcs,after=9 pcs}");
    expect(postedLineSentence(t, "en", create(StocktakeLineSchema, { bookQuantity: "4" }))).toBe("counting.posted.uncounted{}");
  });
});

describe("loans", () => {
  const loan = create(LoanSchema, { id: "l1", outstanding: "2.5", quantity: "3" });

  it("opens a return or a sale with everything still out", () => {
    expect(returnDefaults(loan)).toEqual({ quantity: "2.5", remark: "" });
    expect(sellDefaults(loan)).toEqual({ quantity: "2.5", reference: "" });
  });

  it("builds the return and sale requests", () => {
    expect(returnRequest(loan, { quantity: " 1 ", remark: " back " }, "r")).toEqual({ id: "l1", quantity: "1", remark: "back", requestId: "r" });
    expect(sellRequest(loan, { quantity: "", reference: "SO-9" }, "r")).toEqual({ id: "l1", quantity: "", reference: "SO-9", requestId: "r" });
  });

  it("returns or sells the serial numbers picked, all still out by default", () => {
    const tracked = create(LoanSchema, { id: "l2", outstanding: "2", quantity: "3", serialNumbers: ["A", "B"] });
    expect(returnDefaults(tracked)).toEqual({ quantity: "2", remark: "", serialNumbers: ["A", "B"] });
    expect(sellDefaults(tracked).serialNumbers).toEqual(["A", "B"]);
    expect(returnRequest(tracked, { serialNumbers: ["B"] }, "r")).toEqual({ id: "l2", quantity: "1", remark: "", requestId: "r", serialNumbers: ["B"] });
    expect(sellRequest(tracked, { serialNumbers: ["A", "B"], reference: "SO-1" }, "r")).toEqual({ id: "l2", quantity: "2", reference: "SO-1", requestId: "r", serialNumbers: ["A", "B"] });
  });

  it("builds a loan document posted at once, to a customer or an employee", () => {
    const built = lendRequest(
      { warehouseId: "w", borrowerKind: "customer", customerId: " c1 ", employeeId: "e1", dueDate: "2026-12-31", sample: true, lines: [{}, { productId: "p", quantity: "3", unit: "pcs" }] },
      "r",
    );
    expect(built.request.post).toBe(true);
    expect(built.request.requestId).toBe("r");
    expect(built.request.document).toMatchObject({ kind: DocumentKind.LOAN_OUT, warehouseId: "w", counterpartyKind: CounterpartyKind.CUSTOMER, counterpartyId: "c1", dueDate: "2026-12-31", sample: true });
    expect(built.request.document?.lines).toEqual([{ productId: "p", quantity: "3", unit: "pcs" }]);
    expect(built.lineIndex).toEqual([1]);
    const toEmployee = lendRequest({ warehouseId: "w", borrowerKind: "employee", customerId: "c1", employeeId: "e1", lines: [{ productId: "p", quantity: "1" }] }, "r");
    expect(toEmployee.request.document).toMatchObject({ counterpartyKind: CounterpartyKind.EMPLOYEE, counterpartyId: "e1", sample: false, dueDate: "" });
  });

  it("maps the lend request's violations to the form", () => {
    expect(lendFieldOf("document.lines[0].quantity", [1], "customer")).toEqual(["lines", 1, "quantity"]);
    expect(lendFieldOf("document.lines[0].product_id", [1], "customer")).toEqual(["lines", 1, "productId"]);
    expect(lendFieldOf("document.lines[3].quantity", [1], "customer")).toBeNull();
    expect(lendFieldOf("document.counterparty_id", [], "employee")).toEqual(["employeeId"]);
    expect(lendFieldOf("document.counterparty_id", [], "customer")).toEqual(["customerId"]);
    expect(lendFieldOf("document.due_date", [], "customer")).toEqual(["dueDate"]);
    expect(lendFieldOf("request_id", [], "customer")).toBeNull();
  });
});

describe("refusals", () => {
  it("reads the open stocktake an ALREADY_COUNTING refusal names", () => {
    expect(alreadyCountingOf(refusal("ALREADY_COUNTING", { stocktake_id: "st9" }))).toBe("st9");
    expect(alreadyCountingOf(refusal("INSUFFICIENT_STOCK", {}))).toBeNull();
    expect(alreadyCountingOf(new Error("x"))).toBeNull();
  });

  it("tells a LOAN_NOT_OUT refusal with what is out and what was asked", () => {
    const n = notOutOf(refusal("LOAN_NOT_OUT", { field: "quantity", outstanding: "3", requested: "5" }));
    expect(n).toEqual({ outstanding: "3", requested: "5" });
    expect(notOutSentence(t, "en", n!, "pcs")).toBe("loans.refused.notOut{outstanding=3 pcs,requested=5 pcs}");
    expect(notOutOf(refusal("ALREADY_COUNTING", {}))).toBeNull();
  });

  it("tells an INSUFFICIENT_STOCK refusal on its line", () => {
    const s = lendShortageOf(refusal("INSUFFICIENT_STOCK", { field: "document.lines[1].quantity", product_id: "p", on_hand: "6", available: "4", requested: "1000" }));
    expect(s).toMatchObject({ productId: "p", onHand: "6", available: "4", requested: "1000" });
    expect(shortageLineOf(s!)).toBe(1);
    expect(lendShortageSentence(t, "en", s!, "pcs")).toBe("loans.refused.shortage{available=4 pcs,onHand=6 pcs,requested=1,000 pcs}");
    expect(shortageLineOf({ ...s!, field: "" })).toBe(-1);
  });
});
