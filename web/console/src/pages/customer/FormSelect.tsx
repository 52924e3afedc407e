// A Select for a Form.Item that has rules: the item hands its child aria-required and
// aria-invalid, which a Select would put on its outer box (a plain div, where ARIA does not
// allow them); they are dropped here, and the item's label and error text still describe it.

import { Select, type SelectProps } from "antd";

type Props = SelectProps & { "aria-required"?: unknown; "aria-invalid"?: unknown };

export function FormSelect(props: Props) {
  const { "aria-required": _required, "aria-invalid": _invalid, ...rest } = props;
  return <Select {...rest} />;
}
