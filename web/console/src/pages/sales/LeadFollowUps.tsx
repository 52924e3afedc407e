// A lead's follow-ups, newest first, and the form that records one (with the next contact time,
// which becomes the lead's next follow-up).

import { useState } from "react";
import { Button, Form, Input, Select, Timeline, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ActivityMethod } from "../../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { METHODS, methodKey } from "./labels";
import { chosen, fromLocalInput, showViolations, when } from "./shared";

interface FollowUpForm {
  method?: ActivityMethod;
  summary?: string;
  outcome?: string;
  nextContactTime?: string;
  nextPlan?: string;
}

const FIELDS = ["method", "summary", "outcome", "nextContactTime", "nextPlan"];

export function LeadFollowUps({ leadId, canWrite }: { leadId: string; canWrite: boolean }) {
  const { t, language } = useI18n();
  const client = useQueryClient();
  const [form] = Form.useForm<FollowUpForm>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const list = useQuery({
    queryKey: ["lead", leadId, "followUps"],
    queryFn: ({ signal }) => sales.listLeadFollowUps({ leadId }, { signal }),
  });
  const create = useMutation({
    mutationFn: (v: FollowUpForm) => {
      const next = fromLocalInput(v.nextContactTime);
      return sales.createLeadFollowUp({
        followUp: {
          leadId,
          method: v.method ?? ActivityMethod.UNSPECIFIED,
          summary: v.summary ?? "",
          outcome: v.outcome ?? "",
          nextPlan: v.nextPlan ?? "",
          nextContactTime: next ? timestampFromDate(next) : undefined,
        },
      });
    },
    onSuccess: () => {
      setProblem(null);
      form.resetFields();
      void client.invalidateQueries({ queryKey: ["lead", leadId] });
      void client.invalidateQueries({ queryKey: ["leads"] });
    },
    onError: (e) => setProblem(showViolations(form, e, "follow_up", FIELDS)),
  });
  return (
    <>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      {(list.data?.followUps.length ?? 0) === 0 && !list.isFetching && <Typography.Paragraph>{t("leads.followUp.empty")}</Typography.Paragraph>}
      <Timeline
        items={(list.data?.followUps ?? []).map((f) => ({
          key: f.id,
          children: (
            <div>
              <Typography.Text strong>
                {when(language, f.occurTime ?? f.createTime)} · {t(methodKey(f.method))} · <EmployeeName id={f.authorId} />
              </Typography.Text>
              <div>{f.summary}</div>
              {f.outcome && <div>{t("leads.followUp.outcome")}: {f.outcome}</div>}
              {f.nextContactTime && (
                <div>
                  {t("leads.followUp.next")}: {when(language, f.nextContactTime)} {f.nextPlan}
                </div>
              )}
            </div>
          ),
        }))}
      />
      {canWrite && (
        <Form name="followup" form={form} layout="vertical" onFinish={(v) => create.mutate(v)} style={{ maxWidth: 560 }}>
          <Typography.Title level={4}>{t("leads.followUp.new")}</Typography.Title>
          <ErrorNotice problem={problem} />
          <Form.Item name="method" label={t("sales.method")} rules={[chosen(t("leads.required"))]}>
            <Select options={METHODS.map((m) => ({ value: m, label: t(methodKey(m)) }))} />
          </Form.Item>
          <Form.Item name="summary" label={t("leads.followUp.summary")} rules={[{ required: true, whitespace: true, message: t("leads.required") }]}>
            <Input.TextArea rows={2} />
          </Form.Item>
          <Form.Item name="outcome" label={t("leads.followUp.outcome")}>
            <Input />
          </Form.Item>
          <Form.Item name="nextContactTime" label={t("leads.followUp.next")}>
            <Input type="datetime-local" />
          </Form.Item>
          <Form.Item name="nextPlan" label={t("leads.followUp.nextPlan")}>
            <Input />
          </Form.Item>
          <Button type="primary" htmlType="submit" id="followup-save" loading={create.isPending}>
            {t("leads.followUp.save")}
          </Button>
        </Form>
      )}
    </>
  );
}
