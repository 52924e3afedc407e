// A project's documents, newest first: uploaded whole (the file as the REST body, declared by
// its SHA-256), downloaded as a file, deleted while the project is open.

import { useState } from "react";
import { Button, Input, Popconfirm, Progress, Space, Table, Upload } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ProjectDocument } from "../../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { downloadDocument, uploadDocument } from "./documents";
import { when } from "./shared";

export function Documents({ projectId, canWrite }: { projectId: string; canWrite: boolean }) {
  const { t, language } = useI18n();
  const client = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [description, setDescription] = useState("");
  const key = ["project", projectId, "documents"];
  const list = useQuery({ queryKey: key, queryFn: ({ signal }) => sales.listProjectDocuments({ projectId }, { signal }) });
  const upload = useMutation({
    mutationFn: (file: File) => uploadDocument(projectId, file, description),
    onSuccess: () => {
      setProblem(null);
      setDescription("");
      void client.invalidateQueries({ queryKey: key });
    },
    onError: (e) => setProblem(problemFromError(e)),
  });
  const download = useMutation({
    mutationFn: (d: ProjectDocument) => downloadDocument(d.id, d.fileName),
    onError: (e) => setProblem(problemFromError(e)),
  });
  const remove = useMutation({
    mutationFn: (d: ProjectDocument) => sales.deleteProjectDocument({ id: d.id }),
    onSuccess: () => {
      setProblem(null);
      void client.invalidateQueries({ queryKey: key });
    },
    onError: (e) => setProblem(problemFromError(e)),
  });
  const kb = (bytes: bigint) => t("projects.document.kb", { size: formatNumber(language, Math.max(1, Math.ceil(Number(bytes) / 1024))) });
  return (
    <>
      <ErrorNotice problem={problem ?? (list.error ? problemFromError(list.error) : null)} />
      {canWrite && (
        <Space wrap style={{ marginBottom: 16 }}>
          <Input
            id="document-description"
            aria-label={t("projects.document.description")}
            placeholder={t("projects.document.description")}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            style={{ width: 280 }}
          />
          <Upload
            showUploadList={false}
            customRequest={({ file, onSuccess, onError }) => {
              upload.mutate(file as File, {
                onSuccess: () => onSuccess?.(null),
                onError: (e) => onError?.(e instanceof Error ? e : new Error(String(e))),
              });
            }}
          >
            <Button id="document-upload" loading={upload.isPending}>
              {t("projects.document.upload")}
            </Button>
          </Upload>
          {upload.isPending && <Progress percent={99} status="active" size="small" style={{ width: 120 }} showInfo={false} />}
        </Space>
      )}
      <Table<ProjectDocument>
        rowKey="id"
        size="small"
        loading={list.isFetching}
        dataSource={list.data?.documents ?? []}
        pagination={false}
        locale={{ emptyText: t("projects.document.empty") }}
        columns={[
          { title: t("projects.document.name"), dataIndex: "fileName" },
          { title: t("projects.document.description"), dataIndex: "description" },
          { title: t("projects.document.type"), dataIndex: "contentType" },
          { title: t("projects.document.size"), key: "size", render: (_, d) => kb(d.sizeBytes) },
          { title: t("projects.document.by"), key: "by", render: (_, d) => <EmployeeName id={d.audit?.createdBy} /> },
          { title: t("projects.document.time"), key: "time", render: (_, d) => when(language, d.audit?.createTime) },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_, d) => (
              <Space>
                <Button size="small" onClick={() => download.mutate(d)} loading={download.isPending && download.variables?.id === d.id}>
                  {t("projects.document.download")}
                </Button>
                {canWrite && (
                  <Popconfirm title={t("common.confirm")} onConfirm={() => remove.mutate(d)} okText={t("common.delete")} cancelText={t("common.cancel")}>
                    <Button size="small">
                      {t("common.delete")}
                    </Button>
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />
    </>
  );
}
