import { describe, expect, it } from "vitest";
import { changedPaths, formField, snakeCase } from "./mask";

describe("update masks", () => {
  it("names only the changed fields, in the contract's spelling", () => {
    const original = { companyName: "Acme", phone: "", source: 3, partners: ["x"] };
    const edited = { companyName: "Acme Ltd", phone: undefined, source: 3, partners: ["x", "y"] };
    expect(changedPaths(original, edited, ["companyName", "phone", "source", "partners"])).toEqual([
      "company_name",
      "partners",
    ]);
  });

  it("ignores whitespace-only edits and fields the form did not have", () => {
    expect(changedPaths({ remark: "a" }, { remark: " a " }, ["remark", "city"])).toEqual([]);
  });

  it("maps violations back to form fields", () => {
    expect(snakeCase("plannedCloseDate")).toBe("planned_close_date");
    expect(formField("lead.company_name", "lead")).toBe("companyName");
    expect(formField("opportunity.expected_amount.amount", "opportunity")).toBe("expectedAmount");
    expect(formField("owner_id", "lead")).toBe("ownerId");
  });
});
