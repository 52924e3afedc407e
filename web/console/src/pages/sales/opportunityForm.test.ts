import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { OpportunitySchema } from "../../gen/crm/sales/v1/sales_pb.js";
import { changedPaths } from "./mask";
import { OPPORTUNITY_FIELDS, opportunityFromForm, opportunityToForm } from "./opportunityForm";

describe("the opportunity form", () => {
  const o = create(OpportunitySchema, {
    id: "o-1",
    etag: "v3",
    subject: "Deal",
    stageId: "s1",
    probability: 10,
    expectedAmount: { currencyCode: "USD", amount: "100.00" },
  });

  it("masks only the edited fields", () => {
    const edited = { ...opportunityToForm(o), expectedAmount: "250", remark: "call back" };
    expect(changedPaths({ ...opportunityToForm(o) }, { ...edited }, OPPORTUNITY_FIELDS)).toEqual(["expected_amount", "remark"]);
  });

  it("sends amounts in the record's currency, with the etag", () => {
    const sent = opportunityFromForm(o, { ...opportunityToForm(o), expectedAmount: "250", expectedCost: "" });
    expect(sent.expectedAmount).toEqual({ currencyCode: "USD", amount: "250" });
    expect(sent.expectedCost).toBeUndefined();
    expect(sent.etag).toBe("v3");
  });
});
