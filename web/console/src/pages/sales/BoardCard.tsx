// One deal on the pipeline board: draggable to another stage's column, or moved with its
// "Move to…" menu (the keyboard way), showing subject, owner, amount, close date and a stuck tag.

import { Button, Card, Dropdown, Space, Tag, Typography } from "antd";
import { Link } from "react-router";
import type { Opportunity, Stage } from "../../gen/crm/sales/v1/sales_pb.js";
import { EmployeeName } from "../../components/EmployeeName";
import { useI18n } from "../../i18n";
import { money } from "./shared";

export function BoardCard({
  deal,
  stages,
  onMove,
  onDragStart,
  pending,
}: {
  deal: Opportunity;
  stages: Stage[];
  onMove: (stageId: string) => void;
  onDragStart: () => void;
  pending: boolean;
}) {
  const { t, language } = useI18n();
  return (
    <Card
      size="small"
      draggable
      data-deal={deal.id}
      onDragStart={(e) => {
        e.dataTransfer.setData("text/plain", deal.id);
        e.dataTransfer.effectAllowed = "move";
        onDragStart();
      }}
      style={{ marginBottom: 8, cursor: "grab", opacity: pending ? 0.6 : 1 }}
    >
      <Space direction="vertical" size={2} style={{ width: "100%" }}>
        <Link to={`/opportunities/${deal.id}`}>{deal.subject}</Link>
        <Typography.Text>{money(language, deal.expectedAmount)}</Typography.Text>
        <Typography.Text type="secondary">
          <EmployeeName id={deal.ownerId} />
          {deal.plannedCloseDate ? ` · ${deal.plannedCloseDate}` : ""}
        </Typography.Text>
        <Space>
          {deal.stuck && <Tag color="red">{t("pipeline.stuck")}</Tag>}
          <Dropdown
            trigger={["click"]}
            menu={{
              items: stages.filter((s) => s.id !== deal.stageId).map((s) => ({ key: s.id, label: s.name })),
              onClick: ({ key }) => onMove(key),
            }}
          >
            <Button size="small" aria-label={t("pipeline.moveToOf", { subject: deal.subject })}>
              {t("pipeline.moveTo")}
            </Button>
          </Dropdown>
        </Space>
      </Space>
    </Card>
  );
}
