// The opportunity edit form's shape: the record's editable fields as form values (amounts as
// decimal strings) and back as the message's fields, in the record's currency.

import { ForecastCategory, type Opportunity } from "../../gen/crm/sales/v1/sales_pb.js";

export interface OpportunityFormValues {
  subject?: string;
  stageId?: string;
  probability?: number | null;
  expectedAmount?: string | null;
  expectedCost?: string | null;
  startDate?: string;
  plannedCloseDate?: string;
  forecastCategory?: ForecastCategory;
  competitor?: string;
  remark?: string;
}

export const OPPORTUNITY_FIELDS = [
  "subject",
  "stageId",
  "probability",
  "expectedAmount",
  "expectedCost",
  "startDate",
  "plannedCloseDate",
  "forecastCategory",
  "competitor",
  "remark",
] as const;

export function opportunityToForm(o: Opportunity): OpportunityFormValues {
  return {
    subject: o.subject,
    stageId: o.stageId,
    probability: o.probability,
    expectedAmount: o.expectedAmount?.amount ?? "",
    expectedCost: o.expectedCost?.amount ?? "",
    startDate: o.startDate,
    plannedCloseDate: o.plannedCloseDate,
    forecastCategory: o.forecastCategory || undefined,
    competitor: o.competitor,
    remark: o.remark,
  };
}

/** The message's fields from the form (money in the record's currency, CNY when it has none). */
export function opportunityFromForm(o: Opportunity, v: OpportunityFormValues) {
  const currencyCode = o.expectedAmount?.currencyCode || o.expectedCost?.currencyCode || "CNY";
  const amount = (a: string | null | undefined) => (a && String(a).trim() ? { currencyCode, amount: String(a).trim() } : undefined);
  return {
    id: o.id,
    etag: o.etag,
    subject: (v.subject ?? "").trim(),
    stageId: v.stageId ?? "",
    probability: v.probability ?? 0,
    expectedAmount: amount(v.expectedAmount),
    expectedCost: amount(v.expectedCost),
    startDate: v.startDate ?? "",
    plannedCloseDate: v.plannedCloseDate ?? "",
    forecastCategory: v.forecastCategory ?? ForecastCategory.UNSPECIFIED,
    competitor: v.competitor ?? "",
    remark: v.remark ?? "",
  };
}
