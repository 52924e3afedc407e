// The AIP-160 filters the sales lists send, built from what the user picked.

import { LeadSource, LeadStatus, ProjectStatus } from "../../gen/crm/sales/v1/sales_pb.js";
import { filterCode, quoted } from "./labels";

/** ListLeads: company name containing the text, and the status and source chosen. */
export function leadFilter(search: { text: string; status?: LeadStatus; source?: LeadSource }): string {
  const parts: string[] = [];
  const text = search.text.trim();
  if (text) parts.push(`company_name:${quoted(text)}`);
  if (search.status) parts.push(`status = ${quoted(filterCode(LeadStatus, search.status))}`);
  if (search.source) parts.push(`source = ${quoted(filterCode(LeadSource, search.source))}`);
  return parts.join(" AND ");
}

/** ListOpportunities: the open deals of one pipeline. */
export function boardFilter(pipelineId: string): string {
  return `pipeline_id = ${quoted(pipelineId)} AND status = "open"`;
}

/** ListProjects by status. */
export function projectFilter(status?: ProjectStatus): string {
  return status ? `status = ${quoted(filterCode(ProjectStatus, status))}` : "";
}
