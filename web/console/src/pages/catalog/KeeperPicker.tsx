// Choose the keepers of a warehouse: any number of active colleagues, by name (searched as one
// types). Ids the directory no longer offers as active (a keeper who left) stay shown by name.

import { Select } from "antd";
import { useDirectory } from "../../api/directory";
import { EmployeeStatus } from "../../gen/crm/identity/v1/identity_pb.js";

export function KeeperPicker({
  id,
  value,
  onChange,
  ariaLabel,
}: {
  id?: string;
  value?: string[];
  onChange?: (ids: string[]) => void;
  ariaLabel?: string;
}) {
  const directory = useDirectory();
  const chosen = new Set(value ?? []);
  const options = [...directory.values()]
    .filter((e) => e.status === EmployeeStatus.ACTIVE || chosen.has(e.id))
    .map((e) => ({ value: e.id, label: `${e.displayName} (${e.login})` }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return (
    <Select
      id={id}
      mode="multiple"
      aria-label={ariaLabel}
      showSearch
      optionFilterProp="label"
      value={value ?? []}
      onChange={onChange}
      options={options}
      style={{ minWidth: 220 }}
    />
  );
}
