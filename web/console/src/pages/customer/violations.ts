// A refused call's field violations put on the form fields they name (the ErrorNotice above
// the form shows them all as well).

import type { FormInstance } from "antd";
import { problemFromError } from "../../api/problem";
import { formFieldOf } from "./form";

type Fields<V> = Parameters<FormInstance<V>["setFields"]>[0];

export function showViolations<V>(form: FormInstance<V>, error: unknown): void {
  const fields = problemFromError(error).violations.map((v) => ({ name: formFieldOf(v.field), errors: [v.description] }));
  if (fields.length > 0) form.setFields(fields as Fields<V>);
}

/** One field's error (the ALREADY_EXISTS refusal's matched field). */
export function showFieldError<V>(form: FormInstance<V>, name: string[], error: string): void {
  form.setFields([{ name, errors: [error] }] as Fields<V>);
}
