// Converting a lead: what the DUPLICATE_CUSTOMER refusal names, and the ConvertLead request a
// choice makes. The contract: a conversion creates a customer from the lead unless the
// customers service finds one like it, then it is refused naming that customer, and the lead
// is converted onto it by passing its id as `customer_id`. A second customer of the same name
// cannot be forced; creating a new one means giving the lead a different company name first.

import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";

/** The customer a refused conversion names. */
export interface DuplicateOffer {
  customerId: string;
  customerName: string;
}

/** The duplicate a ConvertLead refusal names, or null for any other error. */
export function duplicateOf(error: unknown): DuplicateOffer | null {
  if (!(error instanceof ConnectError) || error.code !== Code.AlreadyExists) return null;
  const info = error.findDetails(ErrorInfoSchema).find((i) => i.reason === "DUPLICATE_CUSTOMER");
  if (!info) return null;
  const customerId = info.metadata["customer_id"] ?? "";
  if (!customerId) return null;
  return { customerId, customerName: info.metadata["customer_name"] ?? "" };
}

/** What the user chose in the conversion dialog. */
export type ConversionChoice =
  | { kind: "new" }
  | { kind: "existing"; customerId: string };

/** The opportunity to open with the conversion (absent: none). */
export interface OpportunityDraft {
  subject: string;
  /** Decimal string; empty for none. */
  expectedAmount: string;
  currencyCode: string;
  /** `YYYY-MM-DD`; empty for none. */
  plannedCloseDate: string;
}

export interface ConvertLeadInit {
  id: string;
  customerId: string;
  requestId: string;
  opportunity?: {
    subject: string;
    expectedAmount?: { currencyCode: string; amount: string };
    plannedCloseDate: string;
  };
}

/** The ConvertLead request for a choice (the same choice keeps its request id for retries). */
export function conversionRequest(
  leadId: string,
  choice: ConversionChoice,
  opportunity: OpportunityDraft | undefined,
  requestId: string,
): ConvertLeadInit {
  const request: ConvertLeadInit = {
    id: leadId,
    customerId: choice.kind === "existing" ? choice.customerId : "",
    requestId,
  };
  if (opportunity) {
    const amount = opportunity.expectedAmount.trim();
    request.opportunity = {
      subject: opportunity.subject.trim(),
      plannedCloseDate: opportunity.plannedCloseDate,
      ...(amount ? { expectedAmount: { currencyCode: opportunity.currencyCode, amount } } : {}),
    };
  }
  return request;
}

/** A stable key of a request without its id: one request id per distinct request. */
export function requestKey(request: ConvertLeadInit): string {
  const { requestId: _, ...rest } = request;
  return JSON.stringify(rest);
}
