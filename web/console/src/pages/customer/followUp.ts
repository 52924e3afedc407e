// The follow-up form's request: the method, what was said, and the next follow-up time the
// date picker holds (any value with a `toDate()`, as the picker's dates have).

import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CreateFollowUpRequestSchema, FollowUpMethod } from "../../gen/crm/customers/v1/customers_pb.js";

export interface FollowUpValues {
  method?: FollowUpMethod;
  summary?: string;
  outcome?: string;
  nextContactTime?: { toDate(): Date } | null;
  nextPlan?: string;
}

/** The CreateFollowUp request for the form's values. */
export function followUpRequest(
  customerId: string,
  values: FollowUpValues,
  requestId: string,
): MessageInitShape<typeof CreateFollowUpRequestSchema> {
  const next = values.nextContactTime?.toDate();
  return {
    followUp: {
      customerId,
      method: values.method,
      summary: (values.summary ?? "").trim(),
      outcome: (values.outcome ?? "").trim(),
      nextPlan: (values.nextPlan ?? "").trim(),
      nextContactTime: next ? timestampFromDate(next) : undefined,
    },
    requestId,
  };
}

/** Tomorrow at `hour` o'clock, local time, from `now`. */
export function tomorrowAt(now: Date, hour: number): Date {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, hour, 0, 0, 0);
  return d;
}
