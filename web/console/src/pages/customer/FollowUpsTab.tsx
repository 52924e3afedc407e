// A customer's follow-ups, newest first, as a timeline (who, how, what, when next), with more on
// demand, and the form that logs one: the method, what was said, and the next follow-up time.

import { useState } from "react";
import { Button, Card, Col, DatePicker, Empty, Form, Input, Row, Space, Tag, Timeline, Typography } from "antd";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { customers } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { allows, session } from "../../api/session";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import type { FollowUp } from "../../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../../i18n";
import { formatTime } from "../../i18n/locale";
import { followUpRequest, type FollowUpValues } from "./followUp";
import { FormSelect } from "./FormSelect";
import { METHODS, methodKey } from "./labels";
import { showViolations } from "./violations";

export function FollowUpsTab({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const list = useInfiniteQuery({
    queryKey: ["followUps", customerId],
    queryFn: ({ pageParam, signal }) => customers.listFollowUps({ customerId, pageSize: 20, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const followUps = list.data?.pages.flatMap((p) => p.followUps) ?? [];
  return (
    <Row gutter={24}>
      {allows(session(), "customers.follow_up.create") && (
        <Col xs={24} lg={10}>
          <LogFollowUp customerId={customerId} />
        </Col>
      )}
      <Col xs={24} lg={14}>
        <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
        {followUps.length === 0 && !list.isLoading ? (
          <Empty description={t("customers.followUp.empty")} />
        ) : (
          <div id="follow-up-timeline"><Timeline items={followUps.map((f) => ({ key: f.id, children: <FollowUpItem followUp={f} /> }))} /></div>
        )}
        {list.hasNextPage && (
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        )}
      </Col>
    </Row>
  );
}

function FollowUpItem({ followUp: f }: { followUp: FollowUp }) {
  const { t, language } = useI18n();
  return (
    <div className="follow-up">
      <Space wrap>
        <Typography.Text strong>{f.occurTime ? formatTime(language, timestampDate(f.occurTime)) : ""}</Typography.Text>
        <Tag>{t(methodKey(f.method))}</Tag>
        <EmployeeName id={f.authorId} />
      </Space>
      <div style={{ whiteSpace: "pre-wrap" }}>{f.summary}</div>
      {f.outcome && <div>{t("customers.followUp.outcomeIs", { outcome: f.outcome })}</div>}
      {f.nextContactTime && (
        <div>
          {t("customers.followUp.nextAt", { time: formatTime(language, timestampDate(f.nextContactTime)) })}
          {f.nextPlan ? ` — ${f.nextPlan}` : ""}
        </div>
      )}
      {f.comments.map((c) => (
        <div key={c.id} style={{ marginTop: 4, paddingInlineStart: 12, borderInlineStart: "3px solid #d9d9d9" }}>
          <EmployeeName id={c.authorId} />: {c.text}
        </div>
      ))}
    </div>
  );
}

function LogFollowUp({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<FollowUpValues>();
  // A fresh id for each follow-up logged; the same one for retries of it.
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const log = useMutation({
    mutationFn: (values: FollowUpValues) => customers.createFollowUp(followUpRequest(customerId, values, requestId)),
    onSuccess: () => {
      form.resetFields();
      setRequestId(crypto.randomUUID());
      void queryClient.invalidateQueries({ queryKey: ["followUps", customerId] });
      void queryClient.invalidateQueries({ queryKey: ["customer", customerId] });
      void queryClient.invalidateQueries({ queryKey: ["customers"] });
    },
    onError: (error) => {
      showViolations(form, error);
    },
  });
  return (
    <Card title={t("customers.followUp.log")} size="small" style={{ marginBottom: 16 }}>
      <ErrorNotice problem={log.error ? problemFromError(log.error) : null} />
      <Form<FollowUpValues> form={form} name="followUp" layout="vertical" onFinish={(v) => log.mutate(v)}>
        <Form.Item name="method" label={t("customers.followUp.method")} rules={[{ required: true, message: t("customers.required") }]}>
          <FormSelect aria-label={t("customers.followUp.method")} options={METHODS.map((m) => ({ value: m, label: t(methodKey(m)) }))} />
        </Form.Item>
        <Form.Item name="summary" label={t("customers.followUp.summary")} rules={[{ required: true, whitespace: true, message: t("customers.required") }]}>
          <Input.TextArea rows={3} />
        </Form.Item>
        <Form.Item name="outcome" label={t("customers.followUp.outcome")}>
          <Input />
        </Form.Item>
        <Form.Item name="nextContactTime" label={t("customers.nextFollowUp")}>
          <DatePicker showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" style={{ width: "100%" }} />
        </Form.Item>
        <Form.Item name="nextPlan" label={t("customers.followUp.nextPlan")}>
          <Input />
        </Form.Item>
        <Button id="follow-up-save" type="primary" htmlType="submit" loading={log.isPending}>
          {t("customers.followUp.save")}
        </Button>
      </Form>
    </Card>
  );
}
