// The text keys of the sales enums (a value's name in its generated TS enum picks the key), and
// the options lists the forms offer.

import {
  ActivityMethod,
  ForecastCategory,
  LeadSource,
  LeadStatus,
  OpportunityStatus,
  ProjectStatus,
} from "../../gen/crm/sales/v1/sales_pb.js";

type Enum = Record<string, string | number>;

function keyOf(prefix: string, e: Enum, value: number): string {
  const name = e[value];
  return typeof name === "string" && value !== 0 ? `${prefix}.${name}` : "common.none";
}

function valuesOf(e: Enum): number[] {
  return Object.values(e).filter((v): v is number => typeof v === "number" && v !== 0);
}

export const leadStatusKey = (v: LeadStatus) => keyOf("leads.status", LeadStatus, v);
export const leadSourceKey = (v: LeadSource) => keyOf("leads.source", LeadSource, v);
export const methodKey = (v: ActivityMethod) => keyOf("sales.method", ActivityMethod, v);
export const opportunityStatusKey = (v: OpportunityStatus) => keyOf("pipeline.status", OpportunityStatus, v);
export const forecastKey = (v: ForecastCategory) => keyOf("pipeline.forecast", ForecastCategory, v);
export const projectStatusKey = (v: ProjectStatus) => keyOf("projects.status", ProjectStatus, v);

export const LEAD_STATUSES = valuesOf(LeadStatus) as LeadStatus[];
export const LEAD_SOURCES = valuesOf(LeadSource) as LeadSource[];
export const METHODS = valuesOf(ActivityMethod) as ActivityMethod[];
export const FORECASTS = valuesOf(ForecastCategory) as ForecastCategory[];

/** The filter code of a lead status or source (`LEAD_STATUS_NEW` → `new`). */
export function filterCode(e: Enum, value: number): string {
  const name = e[value];
  return typeof name === "string" ? name.toLowerCase() : "";
}

/** An AIP-160 string literal. */
export function quoted(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
