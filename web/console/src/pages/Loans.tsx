// Loans and samples: what each borrower (a customer or a colleague) still has from the
// warehouses in scope, newest first, filtered by open or closed, borrower, warehouse and due
// date; an open loan is taken back (returned onto the shelves) or turned into a sale, in part or
// in full (serial-tracked goods by picking which units come back or are sold: all still out by
// default). Each loan shows the serial numbers still out or its lot. Goods are lent with a form
// that posts a loan document at once (serial numbers or a lot for tracked products); a shortage
// of stock is told on the line that asked too much, a serial or lot refused on its line, a return
// or sale of more than is out with what is out.

import { useRef, useState } from "react";
import { Alert, Button, Card, Col, DatePicker, Form, Input, Modal, Radio, Row, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import dayjs, { type Dayjs } from "dayjs";
import { Link, useSearchParams } from "react-router";
import { warehouse } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { EmployeePicker } from "../components/EmployeePicker";
import { ErrorNotice } from "../ErrorNotice";
import { CounterpartyKind, LoanStatus, type Loan, type Product } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { FormSelect } from "./customer/FormSelect";
import { ProductPicker, productLabel, SerialNumbersInput, useFormats, useProducts, useWarehouses } from "./stock/shared";
import { formCellOf, trackingRefusalOf, trackingSentence, tracksLots, tracksSerials, unitsOf } from "./stock/logic";
import {
  borrowerKindKey,
  formatQty,
  isoDay,
  lendFieldOf,
  lendRequest,
  lendShortageOf,
  lendShortageSentence,
  loanFilter,
  loanStatusKey,
  notOutOf,
  notOutSentence,
  returnDefaults,
  returnRequest,
  sellDefaults,
  sellRequest,
  shortageLineOf,
  type LendValues,
  type LoanStatusFilter,
  type ReturnValues,
  type SellValues,
} from "./counting/logic";

const PAGE_SIZE = 50;
const QUANTITY = /^\s*\d+(\.\d{1,4})?\s*$/;

type Fields = { name: (string | number)[]; errors: string[] }[];

/** Returning or selling part or all of an open loan. */
function LoanAction({ loan, mode, product, onClose }: { loan: Loan; mode: "return" | "sell"; product: Product | undefined; onClose: () => void }) {
  const { t, language } = useI18n();
  const [form] = Form.useForm<ReturnValues & SellValues>();
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notOut, setNotOut] = useState<string | null>(null);
  const requestId = useRef<string | null>(null);
  const unit = product?.unit ?? "";
  const serial = loan.serialNumbers.length > 0;
  const run = useMutation({
    mutationFn: async (values: ReturnValues & SellValues): Promise<void> => {
      if (mode === "return") await warehouse.returnLoan(returnRequest(loan, values, requestId.current!));
      else await warehouse.sellLoan(sellRequest(loan, values, requestId.current!));
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["loans"] });
      void queryClient.invalidateQueries({ queryKey: ["stockLevels"] });
      void queryClient.invalidateQueries({ queryKey: ["stockDocuments"] });
      onClose();
    },
    onError: (e) => {
      const n = notOutOf(e);
      if (n) {
        const sentence = notOutSentence(t, language, n, unit);
        setNotOut(sentence);
        setProblem(null);
        form.setFields([{ name: serial ? "serialNumbers" : "quantity", errors: [sentence] }]);
        return;
      }
      const tracked = trackingRefusalOf(e);
      if (tracked) {
        const sentence = trackingSentence(t, language, tracked, { unit });
        setNotOut(sentence);
        setProblem(null);
        form.setFields([{ name: "serialNumbers", errors: [sentence] }]);
        return;
      }
      const p = problemFromError(e);
      setNotOut(null);
      setProblem(p);
      form.setFields(
        p.violations
            .map((v) => ({ ...v, field: v.field.replace(/\[\d+\]$/, "") === "serial_numbers" ? "serialNumbers" : v.field }))
          .filter((v) => ["quantity", "remark", "reference", "serialNumbers"].includes(v.field))
          .map((v) => ({ name: v.field as "quantity", errors: [v.description] })),
      );
    },
    onSettled: () => {
      requestId.current = null;
    },
  });
  const submit = () => {
    if (run.isPending) return;
    requestId.current ??= crypto.randomUUID();
    void form
      .validateFields()
      .then((values) => {
        setProblem(null);
        setNotOut(null);
        run.mutate(values);
      })
      .catch(() => {
        requestId.current = null;
      });
  };
  const title = mode === "return" ? t("loans.return.title", { number: loan.documentNumber }) : t("loans.sell.title", { number: loan.documentNumber });
  return (
    <Modal open title={title} okText={mode === "return" ? t("loans.return") : t("loans.sell")} cancelText={t("common.cancel")} onCancel={onClose} confirmLoading={run.isPending} onOk={submit}>
      <Typography.Paragraph>
        {t("loans.action.outstanding", { product: productLabel(product, loan.productId), outstanding: `${formatQty(language, loan.outstanding)} ${unit}`.trim() })}
      </Typography.Paragraph>
      <Form form={form} name={`loan-${mode}`} layout="vertical" initialValues={mode === "return" ? returnDefaults(loan) : sellDefaults(loan)}>
        {serial ? (
          <Form.Item
            name="serialNumbers"
            label={mode === "return" ? t("serials.loan.returning") : t("serials.loan.selling")}
            extra={t("serials.loan.pickHint")}
            rules={[{ required: true, type: "array", min: 1, message: t("serials.input.required") }]}
          >
            <SerialNumbersInput id={`loan-${mode}_serialNumbers`} ariaLabel={mode === "return" ? t("serials.loan.returning") : t("serials.loan.selling")} choices={loan.serialNumbers} />
          </Form.Item>
        ) : (
          <Form.Item name="quantity" label={t("loans.action.quantity", { unit: unit || "—" })} extra={t("loans.action.quantityHint")} rules={[{ pattern: QUANTITY, message: t("loans.quantityFormat") }]}>
            <Input inputMode="decimal" />
          </Form.Item>
        )}
        {mode === "return" ? (
          <Form.Item name="remark" label={t("loans.return.remark")}>
            <Input />
          </Form.Item>
        ) : (
          <Form.Item name="reference" label={t("loans.sell.reference")} extra={t("loans.sell.referenceHint")}>
            <Input />
          </Form.Item>
        )}
      </Form>
      {notOut && <Alert type="error" showIcon message={t("loans.refused.notOutTitle")} description={notOut} data-testid="not-out" />}
      <ErrorNotice problem={problem} />
    </Modal>
  );
}

type LendForm = Omit<LendValues, "dueDate"> & { dueDate?: Dayjs | null };

/** Lending goods (or giving samples): a LOAN_OUT document posted at once. */
function LendGoods({ onDone }: { onDone: () => void }) {
  const { t, language } = useI18n();
  const [form] = Form.useForm<LendForm>();
  const warehouses = useWarehouses();
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [shortage, setShortage] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Map<string, Product>>(new Map());
  const requestId = useRef<string | null>(null);
  const borrowerKind = Form.useWatch("borrowerKind", form) ?? "customer";
  const lines = Form.useWatch("lines", form) ?? [];
  const lend = useMutation({
    mutationFn: async (values: LendForm) => {
      const built = lendRequest({ ...values, dueDate: values.dueDate ? values.dueDate.format("YYYY-MM-DD") : "" }, requestId.current!);
      try {
        return await warehouse.createStockDocument(built.request);
      } catch (e) {
        throw Object.assign(new Error("refused"), { cause: e, lineIndex: built.lineIndex, borrowerKind: values.borrowerKind ?? "customer" });
      }
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["loans"] });
      void queryClient.invalidateQueries({ queryKey: ["stockLevels"] });
      void queryClient.invalidateQueries({ queryKey: ["stockDocuments"] });
      form.resetFields();
      onDone();
    },
    onError: (wrapped: Error & { lineIndex?: number[]; borrowerKind?: "customer" | "employee" }) => {
      const e = wrapped.cause ?? wrapped;
      const lineIndex = wrapped.lineIndex ?? [];
      const fields: Fields = [];
      const short = lendShortageOf(e);
      const tracked = short ? null : trackingRefusalOf(e);
      if (tracked) {
        const cell = formCellOf(tracked.field, lineIndex);
        const product = cell ? chosen.get(form.getFieldValue(["lines", Number(cell[1]), "productId"]) as string) : undefined;
        const sentence = trackingSentence(t, language, tracked, { warehouse: warehouses.nameOf(tracked.warehouseId), unit: product?.unit });
        setProblem(null);
        setShortage(cell ? t("loans.lend.lineNumbered", { n: String(Number(cell[1]) + 1), text: sentence }) : `${sentence} ${tracked.message}`);
        if (cell) fields.push({ name: cell, errors: [sentence] });
      } else if (short) {
        const at = shortageLineOf(short);
        const row = at >= 0 ? lineIndex[at] : undefined;
        const product = chosen.get(short.productId);
        const sentence = lendShortageSentence(t, language, short, product?.unit);
        setProblem(null);
        setShortage(row !== undefined ? t("loans.lend.lineNumbered", { n: String(row + 1), text: sentence }) : sentence);
        if (row !== undefined) fields.push({ name: ["lines", row, "quantity"], errors: [sentence] });
      } else {
        const p = problemFromError(e);
        setShortage(null);
        setProblem(p);
        for (const v of p.violations) {
          const cell = lendFieldOf(v.field, lineIndex, wrapped.borrowerKind ?? "customer");
          if (cell) fields.push({ name: cell, errors: [v.description] });
        }
      }
      form.setFields(fields as Parameters<typeof form.setFields>[0]);
    },
    onSettled: () => {
      requestId.current = null;
    },
  });
  const submit = () => {
    if (lend.isPending) return;
    requestId.current ??= crypto.randomUUID();
    void form
      .validateFields()
      .then((values) => {
        setProblem(null);
        setShortage(null);
        lend.mutate(values);
      })
      .catch(() => {
        requestId.current = null;
      });
  };
  const required = [{ required: true, message: t("loans.required") }];
  return (
    <Form<LendForm> form={form} name="lend" layout="vertical" initialValues={{ borrowerKind: "customer", sample: false, lines: [{}] }}>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="warehouseId" label={t("loans.warehouse")} rules={required}>
            <FormSelect showSearch optionFilterProp="label" options={warehouses.options} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="borrowerKind" label={t("loans.lend.borrowerKind")}>
            <Radio.Group
              optionType="button"
              options={[
                { value: "customer", label: t("loans.borrower.customer") },
                { value: "employee", label: t("loans.borrower.employee") },
              ]}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          {borrowerKind === "employee" ? (
            <Form.Item name="employeeId" label={t("loans.lend.employee")} rules={required}>
              <EmployeePicker id="lend_employeeId" ariaLabel={t("loans.lend.employee")} />
            </Form.Item>
          ) : (
            <Form.Item name="customerId" label={t("loans.lend.customer")} rules={required} extra={t("loans.lend.customerHint")}>
              <Input />
            </Form.Item>
          )}
        </Col>
      </Row>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="dueDate" label={t("loans.dueDate")} extra={t("loans.lend.dueDateHint")}>
            <DatePicker format="YYYY-MM-DD" style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={24} md={4}>
          <Form.Item name="sample" label={t("loans.lend.sample")} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="reference" label={t("loans.lend.reference")}>
            <Input />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="remark" label={t("loans.lend.remark")}>
        <Input.TextArea rows={2} />
      </Form.Item>
      <Typography.Title level={4}>{t("loans.lend.lines")}</Typography.Title>
      <Form.List name="lines">
        {(fields, { add, remove }) => (
          <>
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
                        id={`lend_lines_${i}_productId`}
                        ariaLabel={t("loans.lend.product", { n })}
                        known={product}
                        style={{ width: "100%" }}
                        onProduct={(p) => {
                          if (!p) return;
                          setChosen((m) => new Map(m).set(p.id, p));
                          form.setFieldValue(["lines", field.name, "unit"], p.unit);
                          // What another product's tracking took goes with it.
                          if (!tracksLots(p)) form.setFieldValue(["lines", field.name, "lot"], undefined);
                          if (!tracksSerials(p)) form.setFieldValue(["lines", field.name, "serialNumbers"], undefined);
                          else {
                            const count = ((form.getFieldValue(["lines", field.name, "serialNumbers"]) as string[] | undefined) ?? []).length;
                            form.setFieldValue(["lines", field.name, "quantity"], count ? String(count) : "");
                          }
                        }}
                      />
                    </Form.Item>
                  </Col>
                  <Col flex="0 0 150px">
                    <Form.Item name={[field.name, "quantity"]} rules={[...required, { pattern: QUANTITY, message: t("loans.quantityFormat") }]} extra={serial ? t("serials.quantityFollows") : undefined}>
                      <Input inputMode="decimal" readOnly={serial} aria-label={t("loans.lend.quantity", { n })} placeholder={t("loans.quantity")} />
                    </Form.Item>
                  </Col>
                  <Col flex="0 0 120px">
                    <Form.Item name={[field.name, "unit"]}>
                      <FormSelect aria-label={t("loans.lend.unit", { n })} options={(serial && product ? [product.unit] : unitsOf(product)).map((u) => ({ value: u, label: u }))} placeholder={t("loans.unit")} />
                    </Form.Item>
                  </Col>
                  <Col flex="0 0 auto">
                    <Button onClick={() => remove(field.name)} disabled={fields.length === 1} aria-label={t("loans.lend.removeLine", { n })}>
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
                          id={`lend_lines_${i}_serialNumbers`}
                          ariaLabel={t("serials.input.line", { n })}
                          onChange={(serials) => {
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
                        <Input id={`lend_lines_${i}_lot`} aria-label={t("serials.lot.line", { n })} placeholder={t("serials.lot")} maxLength={64} />
                      </Form.Item>
                    </Col>
                  )}
                </Row>
              );
            })}
            <Button onClick={() => add({})} style={{ marginBottom: 16 }}>
              {t("loans.lend.addLine")}
            </Button>
          </>
        )}
      </Form.List>
      {shortage && <Alert type="error" showIcon message={t("loans.refused.shortageTitle")} description={shortage} style={{ marginBottom: 16 }} />}
      <ErrorNotice problem={problem} />
      <Space style={{ marginTop: 16 }}>
        <Button type="primary" onClick={submit} loading={lend.isPending}>
          {t("loans.lend.submit")}
        </Button>
        <Button onClick={onDone}>{t("common.cancel")}</Button>
      </Space>
    </Form>
  );
}

function Borrower({ loan }: { loan: Loan }) {
  const { t } = useI18n();
  return (
    <Space size={4} wrap>
      <Typography.Text type="secondary">{t(borrowerKindKey(loan.counterpartyKind))}</Typography.Text>
      {loan.counterpartyKind === CounterpartyKind.EMPLOYEE ? (
        <EmployeeName id={loan.counterpartyId} />
      ) : loan.counterpartyKind === CounterpartyKind.CUSTOMER && allows(session(), "customers.customer.read") ? (
        <Link to={`/customers/${loan.counterpartyId}`}>{loan.counterpartyId}</Link>
      ) : (
        <span>{loan.counterpartyId}</span>
      )}
    </Space>
  );
}

export default function Loans() {
  const { t } = useI18n();
  const f = useFormats();
  const warehouses = useWarehouses();
  const [status, setStatus] = useState<LoanStatusFilter>("open");
  const [borrower, setBorrower] = useState("");
  const [warehouseId, setWarehouseId] = useState("");
  const [dueBefore, setDueBefore] = useState<Dayjs | null>(null);
  const [acting, setActing] = useState<{ loan: Loan; mode: "return" | "sell" } | null>(null);
  const [params, setParams] = useSearchParams();
  const creating = params.get("new") === "1";
  const setCreating = (open: boolean) => setParams(open ? { new: "1" } : {}, { replace: true });
  const filter = loanFilter({ status, counterpartyId: borrower, warehouseId, dueBefore: dueBefore ? isoDay(dueBefore.toDate()) : "" });
  const list = useInfiniteQuery({
    queryKey: ["loans", filter],
    queryFn: ({ pageParam, signal }) => warehouse.listLoans({ filter, pageSize: PAGE_SIZE, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.pages.flatMap((p) => p.loans) ?? [];
  const products = useProducts(rows.map((l) => l.productId));
  const canAct = allows(session(), "warehouse.document.post");
  const canLend = allows(session(), "warehouse.document.write") && canAct;
  const qty = (l: Loan, v: string) => {
    const unit = products.get(l.productId)?.unit ?? "";
    return `${f.qty(v)}${unit ? `\u00a0${unit}` : ""}`;
  };
  return (
    <>
      <Typography.Title level={2}>{t("menu.loans")}</Typography.Title>
      <Space wrap style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
        <Space wrap>
          <Select<LoanStatusFilter>
            id="loan-status"
            aria-label={t("loans.status")}
            value={status}
            onChange={setStatus}
            style={{ width: 160 }}
            options={[
              { value: "", label: t("loans.anyStatus") },
              { value: "open", label: t("loans.status.open") },
              { value: "closed", label: t("loans.status.closed") },
            ]}
          />
          <Input.Search id="loan-borrower" aria-label={t("loans.borrowerId")} placeholder={t("loans.borrowerId")} allowClear onSearch={(v) => setBorrower(v.trim())} style={{ width: 260 }} />
          <Select
            id="loan-warehouse"
            aria-label={t("loans.warehouse")}
            value={warehouseId}
            onChange={setWarehouseId}
            showSearch
            optionFilterProp="label"
            style={{ minWidth: 240 }}
            options={[{ value: "", label: t("loans.anyWarehouse") }, ...warehouses.options]}
          />
          <DatePicker id="loan-due-before" aria-label={t("loans.dueBefore")} placeholder={t("loans.dueBefore")} format="YYYY-MM-DD" value={dueBefore} onChange={(v) => setDueBefore(v)} />
          <Button
            onClick={() => {
              // Overdue: due before today and not all back (what the service marks `overdue`).
              setStatus("open");
              setDueBefore(dayjs().startOf("day"));
            }}
          >
            {t("loans.showOverdue")}
          </Button>
        </Space>
        {canLend && !creating && (
          <Button type="primary" onClick={() => setCreating(true)}>
            {t("loans.lend")}
          </Button>
        )}
      </Space>
      {creating && (
        <Card title={t("loans.lend")} style={{ marginBottom: 24 }} data-testid="lend-goods">
          <LendGoods onDone={() => setCreating(false)} />
        </Card>
      )}
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<Loan>
        rowKey="id"
        loading={list.isFetching && !list.isFetchingNextPage}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        size="middle"
        locale={{ emptyText: <Typography.Text type="secondary">{t("loans.empty")}</Typography.Text> }}
        columns={[
          { title: t("loans.document"), key: "document", render: (_, l) => <Link to={`/stock/documents/${l.documentId}`}>{l.documentNumber}</Link> },
          { title: t("loans.warehouse"), key: "warehouse", render: (_, l) => warehouses.nameOf(l.warehouseId) },
          { title: t("loans.product"), key: "product", render: (_, l) => productLabel(products.get(l.productId), l.productId) },
          { title: t("loans.borrower"), key: "borrower", render: (_, l) => <Borrower loan={l} /> },
          { title: t("loans.sample"), key: "sample", render: (_, l) => (l.sample ? <Tag color="cyan">{t("loans.sample.tag")}</Tag> : "") },
          { title: t("loans.quantity"), key: "quantity", align: "right", render: (_, l) => <span data-cell="quantity">{qty(l, l.quantity)}</span> },
          { title: t("loans.returned"), key: "returned", align: "right", render: (_, l) => <span data-cell="returned">{qty(l, l.returned)}</span> },
          { title: t("loans.sold"), key: "sold", align: "right", render: (_, l) => <span data-cell="sold">{qty(l, l.sold)}</span> },
          { title: t("loans.outstanding"), key: "outstanding", align: "right", render: (_, l) => <span data-cell="outstanding">{qty(l, l.outstanding)}</span> },
          {
            title: t("serials.loan.tracked"),
            key: "tracked",
            render: (_, l) =>
              l.serialNumbers.length ? (
                <Space size={[4, 4]} wrap data-cell="serials">
                  {l.serialNumbers.map((sn) => (
                    <Tag key={sn} style={{ marginInlineEnd: 0 }}>
                      {sn}
                    </Tag>
                  ))}
                </Space>
              ) : l.lot ? (
                <span data-cell="lot">{t("serials.loan.lot", { lot: l.lot })}</span>
              ) : (
                ""
              ),
          },
          { title: t("loans.outstandingValue"), key: "value", align: "right", render: (_, l) => <span style={{ whiteSpace: "nowrap" }}>{f.money(l.outstandingValue)}</span> },
          {
            title: t("loans.dueDate"),
            key: "due",
            render: (_, l) => (
              <Space size={4}>
                <span style={{ whiteSpace: "nowrap" }}>{l.dueDate}</span>
                {l.overdue && <Tag color="red">{t("loans.overdue")}</Tag>}
              </Space>
            ),
          },
          { title: t("loans.status"), key: "status", render: (_, l) => <Tag color={l.status === LoanStatus.OPEN ? "gold" : "default"}>{t(loanStatusKey(l.status))}</Tag> },
          {
            title: t("common.actions"),
            key: "actions",
            fixed: "right",
            render: (_, l) =>
              canAct && l.status === LoanStatus.OPEN ? (
                <Space>
                  <Button size="small" onClick={() => setActing({ loan: l, mode: "return" })} aria-label={t("loans.return.of", { number: `${l.documentNumber}/${l.lineNo}` })}>
                    {t("loans.return")}
                  </Button>
                  <Button size="small" onClick={() => setActing({ loan: l, mode: "sell" })} aria-label={t("loans.sell.of", { number: `${l.documentNumber}/${l.lineNo}` })}>
                    {t("loans.sell")}
                  </Button>
                </Space>
              ) : null,
          },
        ]}
      />
      {list.hasNextPage && (
        <div style={{ textAlign: "center", marginTop: 16 }}>
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        </div>
      )}
      {acting && <LoanAction key={`${acting.loan.id}:${acting.mode}`} loan={acting.loan} mode={acting.mode} product={products.get(acting.loan.productId)} onClose={() => setActing(null)} />}
    </>
  );
}
