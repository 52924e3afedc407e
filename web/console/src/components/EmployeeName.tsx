import { useEmployeeName } from "../api/directory";

/** An employee shown by name. */
export function EmployeeName({ id }: { id: string | undefined }) {
  return <>{useEmployeeName(id)}</>;
}
