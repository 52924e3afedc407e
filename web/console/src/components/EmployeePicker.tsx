import { Select } from "antd";
import { EmployeeStatus } from "../gen/crm/identity/v1/identity_pb.js";
import { useDirectory } from "../api/directory";

/** Choose an active colleague by name (searched as one types). */
export function EmployeePicker({
  id,
  value,
  onChange,
  placeholder,
  exclude,
  ariaLabel,
}: {
  id?: string;
  value?: string;
  onChange?: (id: string) => void;
  placeholder?: string;
  /** Ids not offered (the leaver in a handover). */
  exclude?: string[];
  ariaLabel?: string;
}) {
  const directory = useDirectory();
  const options = [...directory.values()]
    .filter((e) => e.status === EmployeeStatus.ACTIVE && !(exclude ?? []).includes(e.id))
    .map((e) => ({ value: e.id, label: `${e.displayName} (${e.login})` }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return (
    <Select
      id={id}
      aria-label={ariaLabel ?? placeholder}
      showSearch
      optionFilterProp="label"
      value={value || undefined}
      onChange={onChange}
      placeholder={placeholder}
      options={options}
      style={{ minWidth: 220 }}
    />
  );
}
