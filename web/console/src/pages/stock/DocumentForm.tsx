// A new stock document: its kind (inbound, outbound or a transfer), warehouse, what it refers
// to, and its lines (a product searched by code or name, a quantity in the product's stock unit
// or one of its other units, a cost on inbound lines, a reservation on outbound lines); saved as
// a draft or posted at once. A serial-tracked product's line takes its serial numbers (typed,
// scanned or pasted; the quantity is their count), a lot-tracked one's its lot. A refusal is
// shown where it belongs: each field violation on the field or line cell it names, a shortage of
// stock as a sentence on the line that asked too much, a serial or lot refused on that line's
// serial numbers or lot.

import { useRef, useState } from "react";
import { Alert, Button, Col, Form, Input, Row, Space, Switch, Typography } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { warehouse } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { ErrorNotice } from "../../ErrorNotice";
import type { Product } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { FormSelect } from "../customer/FormSelect";
import {
  createRequest,
  formCellOf,
  INBOUND_KINDS,
  kindKey,
  OUTBOUND_KINDS,
  shortageLine,
  shortageOf,
  shortageSentence,
  takesCost,
  takesDestination,
  takesReservation,
  takesShipping,
  trackingRefusalOf,
  trackingSentence,
  tracksLots,
  tracksSerials,
  unitsOf,
  type DocumentValues,
} from "./logic";
import { ProductPicker, productLabel, SerialNumbersInput, useWarehouses } from "./shared";
import { DocumentKind } from "../../gen/crm/warehouse/v1/warehouse_pb.js";

type Fields = Parameters<ReturnType<typeof Form.useForm<DocumentValues>>[0]["setFields"]>[0];

export function DocumentForm({ onDone }: { onDone: () => void }) {
  const { t, language } = useI18n();
  const [form] = Form.useForm<DocumentValues>();
  const warehouses = useWarehouses();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [shortage, setShortage] = useState<{ title: string; text: string } | null>(null);
  // Products chosen on the lines, by id (their units and names).
  const [chosen, setChosen] = useState<Map<string, Product>>(new Map());
  // One request id per attempt: a double click sends the same one, and the service posts once.
  const requestId = useRef<string | null>(null);
  const kind = Form.useWatch("kind", form);
  const warehouseId = Form.useWatch("warehouseId", form);
  const lines = Form.useWatch("lines", form) ?? [];

  const save = useMutation({
    mutationFn: async ({ values, post }: { values: DocumentValues; post: boolean }) => {
      const built = createRequest(values, post, requestId.current!);
      try {
        return await warehouse.createStockDocument(built.request);
      } catch (e) {
        throw Object.assign(new Error("refused"), { cause: e, lineIndex: built.lineIndex });
      }
    },
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: ["stockDocuments"] });
      void queryClient.invalidateQueries({ queryKey: ["stockLevels"] });
      void queryClient.invalidateQueries({ queryKey: ["ledger"] });
      form.resetFields();
      onDone();
      if (answer.document) navigate(`/stock/documents/${answer.document.id}`);
    },
    onError: (wrapped: Error & { lineIndex?: number[] }) => {
      const e = wrapped.cause ?? wrapped;
      const lineIndex = wrapped.lineIndex ?? [];
      const short = shortageOf(e);
      const tracked = short ? null : trackingRefusalOf(e);
      const fields: { name: (string | number)[]; errors: string[] }[] = [];
      if (tracked) {
        const cell = formCellOf(tracked.field, lineIndex);
        const product = chosen.get(tracked.productId) ?? (cell ? chosen.get(form.getFieldValue(["lines", Number(cell[1]), "productId"]) as string) : undefined);
        const sentence = trackingSentence(t, language, tracked, { warehouse: warehouses.nameOf(tracked.warehouseId), unit: product?.unit });
        setProblem(null);
        setShortage({
          title: t("serials.refused.title"),
          text: cell ? t("stock.line.numbered", { n: String(Number(cell[1]) + 1), text: sentence }) : `${sentence} ${tracked.message}`,
        });
        if (cell) fields.push({ name: cell, errors: [sentence] });
      } else if (short) {
        const at = shortageLine(short);
        const row = at >= 0 ? lineIndex[at] : undefined;
        const product = chosen.get(short.productId);
        const sentence = shortageSentence(t, language, short, {
          product: product ? productLabel(product) : undefined,
          unit: product?.unit,
          warehouse: warehouses.nameOf(short.warehouseId),
        });
        setProblem(null);
        setShortage({ title: t("stock.shortage.title"), text: row !== undefined ? t("stock.line.numbered", { n: String(row + 1), text: sentence }) : sentence });
        if (row !== undefined) fields.push({ name: ["lines", row, "quantity"], errors: [sentence] });
      } else {
        const p = problemFromError(e);
        setShortage(null);
        setProblem(p);
        for (const v of p.violations) {
          const cell = formCellOf(v.field, lineIndex);
          if (cell) fields.push({ name: cell, errors: [v.description] });
        }
      }
      form.setFields(fields as Fields);
    },
    onSettled: () => {
      requestId.current = null;
    },
  });

  const submit = (post: boolean) => {
    if (save.isPending) return;
    requestId.current ??= crypto.randomUUID();
    void form
      .validateFields()
      .then((values) => {
        setProblem(null);
        setShortage(null);
        save.mutate({ values, post });
      })
      .catch(() => {
        requestId.current = null;
      });
  };

  const kindOptions = [
    { label: t("stock.kindGroup.inbound"), options: INBOUND_KINDS.map((k) => ({ value: k, label: t(kindKey(k)) })) },
    { label: t("stock.kindGroup.outbound"), options: OUTBOUND_KINDS.map((k) => ({ value: k, label: t(kindKey(k)) })) },
    { label: t("stock.kindGroup.transfer"), options: [{ value: DocumentKind.TRANSFER, label: t(kindKey(DocumentKind.TRANSFER)) }] },
  ];
  const required = [{ required: true, message: t("stock.required") }];

  return (
    <Form<DocumentValues> form={form} name="stock-document" layout="vertical" initialValues={{ lines: [{}], inTransit: true }}>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="kind" label={t("stock.document.kind")} rules={required}>
            <FormSelect showSearch optionFilterProp="label" options={kindOptions} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="warehouseId" label={takesDestination(kind) ? t("stock.document.from") : t("stock.warehouse")} rules={required}>
            <FormSelect showSearch optionFilterProp="label" options={warehouses.options} />
          </Form.Item>
        </Col>
        {takesDestination(kind) && (
          <Col xs={24} md={8}>
            <Form.Item name="toWarehouseId" label={t("stock.document.to")} rules={required}>
              <FormSelect showSearch optionFilterProp="label" options={warehouses.options.filter((o) => o.value !== warehouseId)} />
            </Form.Item>
          </Col>
        )}
      </Row>
      {takesDestination(kind) && (
        <Form.Item name="inTransit" label={t("stock.document.inTransit")} valuePropName="checked" extra={t("stock.document.inTransitHint")}>
          <Switch />
        </Form.Item>
      )}
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="reference" label={t("stock.document.reference")}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="counterpartyId" label={t("stock.document.counterparty")} extra={t("stock.document.counterpartyHint")}>
            <Input />
          </Form.Item>
        </Col>
        {takesShipping(kind) && (
          <>
            <Col xs={24} md={4}>
              <Form.Item name="courier" label={t("stock.document.courier")}>
                <Input />
              </Form.Item>
            </Col>
            <Col xs={24} md={4}>
              <Form.Item name="trackingNumber" label={t("stock.document.trackingNumber")}>
                <Input />
              </Form.Item>
            </Col>
          </>
        )}
      </Row>
      <Form.Item name="remark" label={t("stock.document.remark")}>
        <Input.TextArea rows={2} />
      </Form.Item>

      <Typography.Title level={4}>{t("stock.document.lines")}</Typography.Title>
      <Form.List name="lines">
        {(fields, { add, remove }) => (
          <>
            {/* Column titles for the eye; each cell's own label names its line for screen readers. */}
            <Row gutter={8} aria-hidden style={{ marginBottom: 4 }}>
              <Col flex="0 0 40px">#</Col>
              <Col flex="1 1 260px">{t("stock.product")}</Col>
              <Col flex="0 0 150px">{t("stock.line.quantityPlaceholder")}</Col>
              <Col flex="0 0 120px">{t("stock.unit")}</Col>
              {takesCost(kind) && <Col flex="0 0 150px">{t("stock.line.unitCostPlaceholder")}</Col>}
              {takesReservation(kind) && <Col flex="0 0 200px">{t("stock.line.reservationId")}</Col>}
              <Col flex="0 0 88px" />
            </Row>
            {fields.map((field, i) => {
              const productId = lines[i]?.productId ?? "";
              const product = chosen.get(productId);
              const serial = tracksSerials(product);
              const n = String(i + 1);
              return (
                <Row key={field.key} gutter={8} align="top" data-line={i + 1}>
                  <Col flex="0 0 40px">
                    <Typography.Text style={{ lineHeight: "32px" }}>{n}</Typography.Text>
                  </Col>
                  <Col flex="1 1 260px">
                    <Form.Item name={[field.name, "productId"]} rules={required}>
                      <ProductPicker
                        id={`stock-document_lines_${i}_productId`}
                        ariaLabel={t("stock.line.product", { n })}
                        known={product}
                        style={{ width: "100%" }}
                        onProduct={(p) => {
                          if (!p) return;
                          setChosen((m) => new Map(m).set(p.id, p));
                          form.setFieldValue(["lines", field.name, "unit"], p.unit);
                          // What another product's tracking took goes with it.
                          if (!tracksLots(p)) form.setFieldValue(["lines", field.name, "lot"], undefined);
                          if (tracksSerials(p)) {
                            const count = ((form.getFieldValue(["lines", field.name, "serialNumbers"]) as string[] | undefined) ?? []).length;
                            form.setFieldValue(["lines", field.name, "quantity"], count ? String(count) : "");
                          } else form.setFieldValue(["lines", field.name, "serialNumbers"], undefined);
                        }}
                      />
                    </Form.Item>
                  </Col>
                  <Col flex="0 0 150px">
                    <Form.Item
                      name={[field.name, "quantity"]}
                      rules={[...required, { pattern: /^\s*\d+(\.\d{1,4})?\s*$/, message: t("stock.line.quantityFormat") }]}
                      extra={serial ? t("serials.quantityFollows") : undefined}
                    >
                      <Input inputMode="decimal" readOnly={serial} aria-label={t("stock.line.quantity", { n })} placeholder={t("stock.line.quantityPlaceholder")} />
                    </Form.Item>
                  </Col>
                  <Col flex="0 0 120px">
                    <Form.Item name={[field.name, "unit"]}>
                      <FormSelect
                        aria-label={t("stock.line.unit", { n })}
                        options={(serial && product ? [product.unit] : unitsOf(product)).map((u) => ({ value: u, label: u }))}
                        placeholder={t("stock.unit")}
                      />
                    </Form.Item>
                  </Col>
                  {takesCost(kind) && (
                    <Col flex="0 0 150px">
                      <Form.Item name={[field.name, "unitCost"]} rules={[{ pattern: /^\s*\d+(\.\d{1,4})?\s*$/, message: t("stock.line.costFormat") }]}>
                        <Input inputMode="decimal" aria-label={t("stock.line.unitCost", { n })} placeholder={t("stock.line.unitCostPlaceholder")} />
                      </Form.Item>
                    </Col>
                  )}
                  {takesReservation(kind) && (
                    <Col flex="0 0 200px">
                      <Form.Item name={[field.name, "reservationId"]}>
                        <Input aria-label={t("stock.line.reservation", { n })} placeholder={t("stock.line.reservationPlaceholder")} />
                      </Form.Item>
                    </Col>
                  )}
                  <Col flex="0 0 88px">
                    <Button onClick={() => remove(field.name)} disabled={fields.length === 1} aria-label={t("stock.line.remove", { n })}>
                      {t("common.delete")}
                    </Button>
                  </Col>
                  {serial && (
                    <Col flex="1 1 100%" style={{ paddingLeft: 48 }}>
                      <Form.Item
                        name={[field.name, "serialNumbers"]}
                        label={t("serials.serialNumbers")}
                        rules={[{ required: true, type: "array", min: 1, message: t("serials.input.required") }]}
                        extra={t("serials.input.hint")}
                      >
                        <SerialNumbersInput
                          id={`stock-document_lines_${i}_serialNumbers`}
                          ariaLabel={t("serials.input.line", { n })}
                          onChange={(serials) => {
                            form.setFieldValue(["lines", field.name, "serialNumbers"], serials);
                            form.setFieldValue(["lines", field.name, "quantity"], serials.length ? String(serials.length) : "");
                            form.setFieldValue(["lines", field.name, "unit"], product?.unit);
                          }}
                        />
                      </Form.Item>
                    </Col>
                  )}
                  {tracksLots(product) && (
                    <Col flex="0 0 300px" style={{ marginLeft: 48 }}>
                      <Form.Item name={[field.name, "lot"]} label={t("serials.lot")} rules={[{ required: true, whitespace: true, message: t("serials.lot.required") }]}>
                        <Input id={`stock-document_lines_${i}_lot`} aria-label={t("serials.lot.line", { n })} placeholder={t("serials.lot")} maxLength={64} />
                      </Form.Item>
                    </Col>
                  )}
                </Row>
              );
            })}
            <Button onClick={() => add({})} style={{ marginBottom: 16 }}>
              {t("stock.line.add")}
            </Button>
          </>
        )}
      </Form.List>
      {takesCost(kind) && <Typography.Paragraph type="secondary">{t("stock.line.costHint")}</Typography.Paragraph>}
      {shortage && <Alert type="error" showIcon message={shortage.title} description={shortage.text} style={{ marginBottom: 16 }} />}
      <ErrorNotice problem={problem} />
      <Space style={{ marginTop: 16 }}>
        <Button onClick={() => submit(false)} loading={save.isPending && !save.variables?.post}>
          {t("stock.document.saveDraft")}
        </Button>
        <Button type="primary" onClick={() => submit(true)} loading={save.isPending && !!save.variables?.post}>
          {t("stock.document.postNow")}
        </Button>
        <Button onClick={onDone}>{t("common.cancel")}</Button>
      </Space>
    </Form>
  );
}
