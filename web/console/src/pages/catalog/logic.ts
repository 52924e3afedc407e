// The catalog screens' logic, kept apart from the screens so the tests check it: the category
// tree from the flat list, the product form to and from its messages (alternative units as rows,
// prices as decimal strings), an edit's update mask, the list's filter, the form field a
// violation names, what an ALREADY_EXISTS refusal says about the existing product, and a
// warehouse edit's update mask.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  ProductStatus,
  Tracking,
  type Category,
  type CreateProductRequestSchema,
  type Product,
  type ProductSchema,
  type UnitConversion,
  type UpdateProductRequestSchema,
  type Warehouse,
} from "../../gen/crm/warehouse/v1/warehouse_pb.js";

// ---- Categories ----

export interface CategoryNode {
  key: string;
  title: string;
  category: Category;
  /** Absent on a leaf (no expander). */
  children?: CategoryNode[];
}

/**
 * The tree of the flat list (the service sends it in tree order, which is not relied on). A
 * category whose parent is not in the list is a root; siblings are sorted by name.
 */
export function categoryTree(categories: Category[]): CategoryNode[] {
  const nodes = new Map<string, CategoryNode>();
  for (const c of categories) nodes.set(c.id, { key: c.id, title: c.name, category: c });
  const roots: CategoryNode[] = [];
  for (const c of categories) {
    const node = nodes.get(c.id)!;
    const parent = c.parentId ? nodes.get(c.parentId) : undefined;
    if (parent && parent !== node) (parent.children ??= []).push(node);
    else roots.push(node);
  }
  const sort = (list: CategoryNode[]) => {
    list.sort((a, b) => a.title.localeCompare(b.title));
    for (const n of list) if (n.children) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** The category and every one below it: none of them may become its new parent. */
export function categorySubtree(categories: Category[], id: string): Set<string> {
  const ids = new Set<string>([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of categories) {
      if (c.parentId && ids.has(c.parentId) && !ids.has(c.id)) {
        ids.add(c.id);
        grew = true;
      }
    }
  }
  return ids;
}

/** Categories as picker options labelled with their path (`Electronics / Phones`), by path. */
export function categoryOptions(categories: Category[], exclude: Set<string> = new Set()): { value: string; label: string }[] {
  return categories
    .filter((c) => !exclude.has(c.id))
    .map((c) => ({ value: c.id, label: c.pathName || c.name }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** The fields a category edit changed, as UpdateCategory's mask names them. */
export function categoryMask(original: Category, next: { name: string; parentId: string }): string[] {
  const paths: string[] = [];
  if (next.name !== original.name) paths.push("name");
  if (next.parentId !== original.parentId) paths.push("parent_id");
  return paths;
}

// ---- Products ----

export type ProductStatusFilter = "" | "active" | "discontinued";

/** The ListProducts filter (AIP-160) for a status; empty for any. */
export function productFilter(status: ProductStatusFilter): string {
  return status ? `status = "${status}"` : "";
}

/** An alternative unit as the form's row holds it. */
export interface UnitRow {
  name?: string;
  factor?: string;
}

/** What the product form holds (names follow the message's fields; money as its amount). */
export interface ProductValues {
  code: string;
  name: string;
  specification?: string;
  unit: string;
  units?: UnitRow[];
  categoryId?: string;
  barcode?: string;
  brand?: string;
  salePrice?: string;
  taxRate?: string;
  standardCost?: string;
  warrantyMonths?: number | null;
  remark?: string;
  /** How units are told apart: none, serial numbers or lots. */
  tracking?: Tracking;
}

/** A product's tracking, an unspecified one read as none. */
export function trackingOf(tracking: Tracking | undefined): Tracking {
  return tracking === Tracking.SERIAL || tracking === Tracking.LOT ? tracking : Tracking.NONE;
}

/** The text key of a tracking (`catalog.tracking.serial`). */
export function trackingKey(tracking: Tracking | undefined): string {
  const t = trackingOf(tracking);
  return t === Tracking.SERIAL ? "catalog.tracking.serial" : t === Tracking.LOT ? "catalog.tracking.lot" : "catalog.tracking.none";
}

type ProductInit = Exclude<MessageInitShape<typeof ProductSchema>, Product>;

const text = (v: string | undefined | null) => (v ?? "").trim();

/** The form's rows as UnitConversion messages: trimmed, rows without a name dropped. */
export function unitConversions(rows: UnitRow[] | undefined): { name: string; factor: string }[] {
  return (rows ?? []).map((r) => ({ name: text(r.name), factor: text(r.factor) })).filter((r) => r.name !== "" || r.factor !== "");
}

/** The conversions as the form's rows. */
export function unitRows(units: UnitConversion[]): UnitRow[] {
  return units.map((u) => ({ name: u.name, factor: u.factor }));
}

/** A decimal string without trailing zeros after the point (`12.0000` → `12`), for hints. */
export function trimDecimal(value: string): string {
  const v = value.trim();
  if (!/^-?\d+(\.\d+)?$/.test(v)) return v;
  return v.includes(".") ? v.replace(/0+$/, "").replace(/\.$/, "") : v;
}

/** Whether `value` is a decimal string the service takes (up to 4 places), or empty. */
export function isDecimal(value: string | undefined, places = 4): boolean {
  const v = text(value);
  return v === "" || new RegExp(`^\\d+(\\.\\d{1,${places}})?$`).test(v);
}

/** The form's values for an existing product. */
export function productValues(p: Product): ProductValues {
  return {
    code: p.code,
    name: p.name,
    specification: p.specification,
    unit: p.unit,
    units: unitRows(p.units),
    categoryId: p.categoryId,
    barcode: p.barcode,
    brand: p.brand,
    salePrice: p.salePrice?.amount ?? "",
    taxRate: p.taxRate,
    standardCost: p.standardCost?.amount ?? "",
    warrantyMonths: p.warrantyMonths,
    remark: p.remark,
    tracking: trackingOf(p.tracking),
  };
}

/**
 * The product message of the form's values. Money is sent without a currency: the service keeps
 * prices and costs in its base currency and fills it in; `currency` names one already read.
 */
export function productOf(values: ProductValues, currency = ""): ProductInit {
  const money = (amount: string | undefined) => (text(amount) === "" ? undefined : { currencyCode: currency, amount: text(amount) });
  return {
    code: text(values.code),
    name: text(values.name),
    specification: text(values.specification),
    unit: text(values.unit),
    units: unitConversions(values.units),
    categoryId: values.categoryId ?? "",
    barcode: text(values.barcode),
    brand: text(values.brand),
    salePrice: money(values.salePrice),
    taxRate: text(values.taxRate),
    standardCost: money(values.standardCost),
    warrantyMonths: values.warrantyMonths ?? 0,
    remark: text(values.remark),
    tracking: trackingOf(values.tracking),
  };
}

/** The CreateProduct request for the new product form. */
export function createProductRequest(values: ProductValues, requestId: string): MessageInitShape<typeof CreateProductRequestSchema> {
  return { product: productOf(values), requestId };
}

/** Two decimal strings equal as numbers (`5` and `5.00`), compared without floats. */
function sameDecimal(a: string, b: string): boolean {
  const norm = (v: string) => {
    const t = v.trim() || "0";
    if (!/^-?\d+(\.\d+)?$/.test(t)) return t;
    const [int, frac = ""] = t.split(".");
    return `${int.replace(/^(-?)0+(?=\d)/, "$1")}.${frac.replace(/0+$/, "")}`;
  };
  return norm(a) === norm(b);
}

const MASK: [keyof ProductValues, string][] = [
  ["code", "code"],
  ["name", "name"],
  ["specification", "specification"],
  ["unit", "unit"],
  ["categoryId", "category_id"],
  ["barcode", "barcode"],
  ["brand", "brand"],
  ["remark", "remark"],
];

/** The fields a product edit changed, as UpdateProduct's mask names them. */
export function productMask(original: Product, next: ProductValues): string[] {
  const before = productValues(original);
  const paths: string[] = [];
  for (const [field, path] of MASK) {
    if (text(before[field] as string) !== text(next[field] as string | undefined)) paths.push(path);
  }
  const units = (rows: UnitRow[] | undefined) => JSON.stringify(unitConversions(rows).map((u) => [u.name, trimDecimal(u.factor)]));
  if (units(before.units) !== units(next.units)) paths.push("units");
  if (!sameDecimal(before.salePrice ?? "", text(next.salePrice))) paths.push("sale_price");
  if (!sameDecimal(before.taxRate ?? "", text(next.taxRate))) paths.push("tax_rate");
  if (!sameDecimal(before.standardCost ?? "", text(next.standardCost))) paths.push("standard_cost");
  if ((before.warrantyMonths ?? 0) !== (next.warrantyMonths ?? 0)) paths.push("warranty_months");
  if (trackingOf(before.tracking) !== trackingOf(next.tracking)) paths.push("tracking");
  return paths;
}

/** The UpdateProduct request for the edited form (against the product's etag), or null when nothing changed. */
export function updateProductRequest(product: Product, edited: ProductValues): MessageInitShape<typeof UpdateProductRequestSchema> | null {
  const paths = productMask(product, edited);
  if (paths.length === 0) return null;
  const currency = product.salePrice?.currencyCode || product.standardCost?.currencyCode || "";
  const message = productOf(edited, currency);
  // A price cleared is a price of zero (an absent one would not change it).
  for (const field of ["salePrice", "standardCost"] as const) {
    if (!message[field]) message[field] = { currencyCode: currency, amount: "0" };
  }
  return { product: { ...message, id: product.id, etag: product.etag }, updateMask: { paths } };
}

/** The request that discontinues (or re-activates) a product. */
export function statusRequest(product: Product, status: ProductStatus): MessageInitShape<typeof UpdateProductRequestSchema> {
  return { product: { id: product.id, etag: product.etag, status }, updateMask: { paths: ["status"] } };
}

/** snake_case → lowerCamel (`sale_price` → `salePrice`). */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The form field (a name path) a violation's field names, or null when the form has none: the
 * request's message prefix dropped, list indexes kept (`product.units[1].factor` →
 * `["units", 1, "factor"]`; other indexes name the whole field), money by its amount
 * (`product.sale_price.amount` → `["salePrice"]`).
 */
export function formFieldOf(field: string, known: readonly string[]): (string | number)[] | null {
  const parts = field.split(".").filter((p) => p !== "");
  if (parts.length > 1 && ["product", "warehouse", "category"].includes(parts[0])) parts.shift();
  const path: (string | number)[] = [];
  for (const part of parts) {
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return null;
    path.push(camel(m[1]));
    for (const i of m[2].matchAll(/\[(\d+)\]/g)) path.push(Number(i[1]));
  }
  if (path.length === 0 || !known.includes(String(path[0]))) return null;
  // Money is one input (its amount); its currency and amount are that input's.
  if (path[0] === "salePrice" || path[0] === "standardCost") return [path[0]];
  // The unit rows are the form's one list: elsewhere an index names the whole field (a keeper).
  if (path[0] !== "units") return path.filter((p) => typeof p === "string");
  // A unit row's index without a part: the row's name.
  if (path.length === 2) return [...path, "name"];
  return path;
}

/** The existing product an ALREADY_EXISTS refusal of CreateProduct names. */
export interface ExistingProduct {
  /** DUPLICATE_PRODUCT_CODE or DUPLICATE_PRODUCT (same name and specification). */
  reason: string;
  productId: string;
  productCode: string;
  /** The form fields the collision is on. */
  fields: string[];
}

/** What an ALREADY_EXISTS refusal says about the product it matched (null for others). */
export function existingProductOf(error: unknown): ExistingProduct | null {
  if (!(error instanceof ConnectError)) return null;
  const info = error.findDetails(ErrorInfoSchema).find((d) => d.reason === "DUPLICATE_PRODUCT_CODE" || d.reason === "DUPLICATE_PRODUCT");
  if (!info) return null;
  return {
    reason: info.reason,
    productId: info.metadata["existing_product_id"] ?? "",
    productCode: info.metadata["existing_product_code"] ?? "",
    fields: info.reason === "DUPLICATE_PRODUCT_CODE" ? ["code"] : ["name", "specification"],
  };
}

/** Whether a refused update lost a race: the record changed since it was read (its etag). */
export function isStale(error: unknown): boolean {
  if (!(error instanceof ConnectError)) return false;
  return error.code === Code.Aborted || error.findDetails(ErrorInfoSchema).some((d) => d.reason === "STALE_ETAG");
}

// ---- Warehouses ----

export interface WarehouseValues {
  code: string;
  name: string;
  address?: string;
  keeperIds?: string[];
  allowNegativeStock?: boolean;
  remark?: string;
}

/** The form's values for an existing warehouse. */
export function warehouseValues(w: Warehouse): WarehouseValues {
  return {
    code: w.code,
    name: w.name,
    address: w.address,
    keeperIds: [...w.keeperIds],
    allowNegativeStock: w.allowNegativeStock,
    remark: w.remark,
  };
}

/** The warehouse message of the form's values (texts trimmed, keepers without repeats). */
export function warehouseOf(values: WarehouseValues) {
  return {
    code: text(values.code),
    name: text(values.name),
    address: text(values.address),
    keeperIds: [...new Set(values.keeperIds ?? [])],
    allowNegativeStock: values.allowNegativeStock ?? false,
    remark: text(values.remark),
  };
}

/** The fields a warehouse edit changed, as UpdateWarehouse's mask names them. */
export function warehouseMask(original: Warehouse, values: WarehouseValues): string[] {
  const next = warehouseOf(values);
  const paths: string[] = [];
  if (next.code !== original.code) paths.push("code");
  if (next.name !== original.name) paths.push("name");
  if (next.address !== original.address) paths.push("address");
  if ([...next.keeperIds].sort().join(",") !== [...original.keeperIds].sort().join(",")) paths.push("keeper_ids");
  if (next.allowNegativeStock !== original.allowNegativeStock) paths.push("allow_negative_stock");
  if (next.remark !== original.remark) paths.push("remark");
  return paths;
}

/** Whether a product is on offer (an unspecified status reads as active). */
export function isDiscontinued(p: Product): boolean {
  return p.status === ProductStatus.DISCONTINUED;
}

/** Whether `value` is a percentage from 0 to 100 (up to 4 places), or empty. */
export function isPercent(value: string | undefined): boolean {
  const v = text(value);
  if (v === "") return true;
  if (!isDecimal(v)) return false;
  const [int, frac = ""] = v.split(".");
  const whole = int.replace(/^0+(?=\d)/, "");
  return whole.length < 3 || (whole === "100" && /^0*$/.test(frac));
}

/** The form field an ALREADY_EXISTS refusal of a category or warehouse is about, or null. */
export function duplicateFieldOf(error: unknown): string | null {
  if (!(error instanceof ConnectError) || error.code !== Code.AlreadyExists) return null;
  const reasons = error.findDetails(ErrorInfoSchema).map((d) => d.reason);
  if (reasons.includes("DUPLICATE_CATEGORY")) return "name";
  if (reasons.includes("DUPLICATE_WAREHOUSE_CODE")) return "code";
  return null;
}
