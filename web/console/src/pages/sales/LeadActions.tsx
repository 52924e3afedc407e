// What can be done with a lead's ownership: claim it from the pool, give it to a colleague
// (managers: sales.lead.assign), or put one's own lead back into the pool.

import { useState } from "react";
import { Button, Modal, Popconfirm, Space } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { Lead } from "../../gen/crm/sales/v1/sales_pb.js";
import { LeadStatus } from "../../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { allows, session } from "../../api/session";
import { EmployeePicker } from "../../components/EmployeePicker";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";

export function LeadActions({ lead, onError }: { lead: Lead; onError: (p: Problem | null) => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const s = session();
  const [assigning, setAssigning] = useState(false);
  const [assignee, setAssignee] = useState("");
  const [assignProblem, setAssignProblem] = useState<Problem | null>(null);
  const done = () => {
    onError(null);
    void client.invalidateQueries({ queryKey: ["leads"] });
    void client.invalidateQueries({ queryKey: ["lead", lead.id] });
  };
  const claim = useMutation({
    mutationFn: () => sales.claimLead({ id: lead.id }),
    onSuccess: done,
    onError: (e) => onError(problemFromError(e)),
  });
  const release = useMutation({
    mutationFn: () => sales.releaseLead({ id: lead.id }),
    onSuccess: done,
    onError: (e) => onError(problemFromError(e)),
  });
  const assign = useMutation({
    mutationFn: () => sales.assignLead({ id: lead.id, ownerId: assignee }),
    onSuccess: () => {
      setAssigning(false);
      setAssignee("");
      setAssignProblem(null);
      done();
    },
    onError: (e) => setAssignProblem(problemFromError(e)),
  });
  const closed = lead.status === LeadStatus.CONVERTED;
  if (closed) return null;
  const pooled = !lead.ownerId;
  const mine = lead.ownerId === s?.employee?.id;
  return (
    <Space wrap>
      {pooled && allows(s, "sales.lead.claim") && (
        <Button size="small" onClick={() => claim.mutate()} loading={claim.isPending}>
          {t("leads.claim")}
        </Button>
      )}
      {allows(s, "sales.lead.assign") && (
        <Button size="small" onClick={() => setAssigning(true)}>
          {t("leads.assign")}
        </Button>
      )}
      {!pooled && (mine || allows(s, "sales.lead.assign")) && allows(s, "sales.lead.update") && (
        <Popconfirm title={t("leads.releaseConfirm")} onConfirm={() => release.mutate()} okText={t("leads.release")} cancelText={t("common.cancel")}>
          <Button size="small" loading={release.isPending}>
            {t("leads.release")}
          </Button>
        </Popconfirm>
      )}
      <Modal
        open={assigning}
        title={t("leads.assignTitle", { name: lead.companyName })}
        okText={t("leads.assign")}
        cancelText={t("common.cancel")}
        okButtonProps={{ disabled: !assignee, loading: assign.isPending }}
        onOk={() => assign.mutate()}
        onCancel={() => setAssigning(false)}
        destroyOnHidden
      >
        <ErrorNotice problem={assignProblem} />
        <label htmlFor={`assignee-${lead.id}`} style={{ display: "block", marginBlock: 8 }}>
          {t("leads.assignee")}
        </label>
        <EmployeePicker id={`assignee-${lead.id}`} value={assignee} onChange={setAssignee} ariaLabel={t("leads.assignee")} />
      </Modal>
    </Space>
  );
}
