// One section of "My day": a card whose heading carries the section's count, its list, a
// "load more" when the service has more pages, and the service's refusal in the section only.

import type { ReactNode } from "react";
import { Button, Card, List, Tag, Typography } from "antd";
import type { Problem } from "../../api/problem";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { countLabel } from "./logic";

export interface SectionProps<T> {
  id: string;
  title: string;
  items: T[];
  /** Whether the service has more pages than loaded. */
  more: boolean;
  loading: boolean;
  problem: Problem | null;
  renderItem: (item: T) => ReactNode;
  rowKey: (item: T) => string;
  onMore?: () => void;
  loadingMore?: boolean;
  /** Controls in the heading's corner (the days of "not contacted"). */
  extra?: ReactNode;
  /** A note under the list. */
  footer?: ReactNode;
}

export function Section<T>(props: SectionProps<T>) {
  const { t, language } = useI18n();
  const headingId = `${props.id}-heading`;
  return (
    <Card
      id={props.id}
      size="small"
      aria-labelledby={headingId}
      title={
        <h2 id={headingId} style={{ fontSize: 16, margin: 0 }}>
          {props.title}{" "}
          {!props.problem && !props.loading && (
            <Tag color={props.items.length > 0 ? "blue" : undefined} className="day-count">
              {countLabel(props.items.length, props.more, (n) => formatNumber(language, n))}
            </Tag>
          )}
        </h2>
      }
      extra={props.extra}
      style={{ height: "100%" }}
    >
      {props.problem ? (
        <ErrorNotice problem={props.problem} />
      ) : (
        <List<T>
          size="small"
          loading={props.loading}
          dataSource={props.items}
          rowKey={props.rowKey}
          locale={{ emptyText: <Typography.Text type="secondary">{t("day.empty")}</Typography.Text> }}
          renderItem={(item) => <List.Item>{props.renderItem(item)}</List.Item>}
          loadMore={
            props.more && props.onMore ? (
              <div style={{ textAlign: "center", marginTop: 8 }}>
                <Button size="small" onClick={props.onMore} loading={props.loadingMore}>
                  {t("common.more")}
                </Button>
              </div>
            ) : undefined
          }
        />
      )}
      {props.footer}
    </Card>
  );
}
