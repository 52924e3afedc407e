import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { conversionRequest, duplicateOf, requestKey } from "./convert";

describe("lead conversion", () => {
  it("reads the duplicate the refusal names", () => {
    const refusal = new ConnectError("customer Acme (c-1) already exists", Code.AlreadyExists, undefined, [
      {
        desc: ErrorInfoSchema,
        value: create(ErrorInfoSchema, {
          reason: "DUPLICATE_CUSTOMER",
          metadata: { customer_id: "c-1", customer_name: "Acme", lead_id: "l-1" },
        }),
      },
    ]);
    expect(duplicateOf(refusal)).toEqual({ customerId: "c-1", customerName: "Acme" });
    expect(duplicateOf(new ConnectError("no", Code.FailedPrecondition))).toBeNull();
    expect(duplicateOf(new Error("x"))).toBeNull();
  });

  it("turns a choice into the request", () => {
    expect(conversionRequest("l-1", { kind: "new" }, undefined, "r1")).toEqual({ id: "l-1", customerId: "", requestId: "r1" });
    const onto = conversionRequest(
      "l-1",
      { kind: "existing", customerId: "c-1" },
      { subject: " Deal ", expectedAmount: "1000", currencyCode: "CNY", plannedCloseDate: "2027-01-31" },
      "r2",
    );
    expect(onto).toEqual({
      id: "l-1",
      customerId: "c-1",
      requestId: "r2",
      opportunity: { subject: "Deal", plannedCloseDate: "2027-01-31", expectedAmount: { currencyCode: "CNY", amount: "1000" } },
    });
    const noAmount = conversionRequest("l-1", { kind: "new" }, { subject: "D", expectedAmount: "", currencyCode: "CNY", plannedCloseDate: "" }, "r3");
    expect(noAmount.opportunity?.expectedAmount).toBeUndefined();
  });

  it("keys requests by what they ask, not their id", () => {
    const a = conversionRequest("l-1", { kind: "new" }, undefined, "r1");
    const b = conversionRequest("l-1", { kind: "new" }, undefined, "r2");
    const c = conversionRequest("l-1", { kind: "existing", customerId: "c" }, undefined, "r1");
    expect(requestKey(a)).toBe(requestKey(b));
    expect(requestKey(a)).not.toBe(requestKey(c));
  });
});
