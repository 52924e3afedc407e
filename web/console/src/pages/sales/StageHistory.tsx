// Every stage an opportunity has been in: when it entered and left, how long it stayed, and who
// moved it there.

import { Table } from "antd";
import { useQuery } from "@tanstack/react-query";
import { sales } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { when } from "./shared";

export function StageHistory({ opportunityId }: { opportunityId: string }) {
  const { t, language } = useI18n();
  const visits = useQuery({
    queryKey: ["opportunity", opportunityId, "stageHistory"],
    queryFn: ({ signal }) => sales.listStageHistory({ opportunityId }, { signal }),
  });
  return (
    <>
      <ErrorNotice problem={visits.error ? problemFromError(visits.error) : null} />
      <Table
        rowKey={(v) => `${v.stageId}-${v.enterTime?.seconds ?? 0}`}
        size="small"
        loading={visits.isFetching}
        dataSource={visits.data?.visits ?? []}
        pagination={false}
        columns={[
          { title: t("pipeline.field.stage"), dataIndex: "stageName" },
          { title: t("pipeline.history.entered"), key: "in", render: (_, v) => when(language, v.enterTime) },
          { title: t("pipeline.history.left"), key: "out", render: (_, v) => (v.leaveTime ? when(language, v.leaveTime) : t("pipeline.history.current")) },
          {
            title: t("pipeline.history.duration"),
            key: "time",
            render: (_, v) => {
              const seconds = Number(v.secondsInStage);
              return t("pipeline.history.days", {
                days: formatNumber(language, Math.floor(seconds / 86400)),
                hours: formatNumber(language, Math.floor((seconds % 86400) / 3600)),
              });
            },
          },
          { title: t("pipeline.history.movedBy"), key: "by", render: (_, v) => <EmployeeName id={v.movedBy} /> },
        ]}
      />
    </>
  );
}
