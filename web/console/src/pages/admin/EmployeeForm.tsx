// The fields of an employee, shared by creating one (with login and initial password) and
// editing one (login fixed): name, contacts, department, manager and roles.

import { Form, Input, Select } from "antd";
import { EmployeePicker } from "../../components/EmployeePicker";
import { useI18n } from "../../i18n";
import { useDepartments, useRoles } from "./data";
import { departmentOptions } from "./logic";

export function EmployeeFields({ creating, employeeId }: { creating: boolean; employeeId?: string }) {
  const { t } = useI18n();
  const departments = useDepartments();
  const roles = useRoles();
  const required = { required: true, message: t("admin.required") };
  return (
    <>
      {creating && (
        <Form.Item name="login" label={t("admin.employee.login")} rules={[required]} extra={t("admin.employee.loginHint")}>
          <Input autoComplete="off" />
        </Form.Item>
      )}
      <Form.Item name="displayName" label={t("admin.employee.displayName")} rules={[required]}>
        <Input />
      </Form.Item>
      <Form.Item name="email" label={t("admin.employee.email")}>
        <Input type="email" />
      </Form.Item>
      <Form.Item name="phone" label={t("admin.employee.phone")}>
        <Input />
      </Form.Item>
      {creating && (
        <Form.Item name="password" label={t("admin.employee.password")} rules={[required, { min: 8, message: t("admin.passwordLength") }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      )}
      <Form.Item name="departmentId" label={t("admin.employee.department")} rules={[required]}>
        <Select
         
          showSearch
          optionFilterProp="label"
          loading={departments.isLoading}
          options={departmentOptions(departments.data?.departments ?? [])}
        />
      </Form.Item>
      <Form.Item name="managerId" label={t("admin.employee.manager")}>
        <EmployeePicker ariaLabel={t("admin.employee.manager")} exclude={employeeId ? [employeeId] : []} />
      </Form.Item>
      <Form.Item name="roleIds" label={t("admin.employee.roles")}>
        <Select
         
          mode="multiple"
          optionFilterProp="label"
          loading={roles.isLoading}
          options={(roles.data?.roles ?? []).map((r) => ({ value: r.id, label: r.name }))}
        />
      </Form.Item>
    </>
  );
}
