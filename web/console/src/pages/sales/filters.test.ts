import { describe, expect, it } from "vitest";
import { LeadSource, LeadStatus, ProjectStatus } from "../../gen/crm/sales/v1/sales_pb.js";
import { boardFilter, leadFilter, projectFilter } from "./filters";

describe("list filters", () => {
  it("builds the lead filter from the search", () => {
    expect(leadFilter({ text: "" })).toBe("");
    expect(leadFilter({ text: ' Ac"me ', status: LeadStatus.QUALIFIED, source: LeadSource.PHONE_INQUIRY })).toBe(
      'company_name:"Ac\\"me" AND status = "qualified" AND source = "phone_inquiry"',
    );
  });

  it("builds the board's and the projects' filters", () => {
    expect(boardFilter("p-1")).toBe('pipeline_id = "p-1" AND status = "open"');
    expect(projectFilter(ProjectStatus.TERMINATED)).toBe('status = "terminated"');
    expect(projectFilter()).toBe("");
  });
});
