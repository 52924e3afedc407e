import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { CategorySchema, ProductSchema, ProductStatus, Tracking, WarehouseSchema } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { formatDecimal } from "./format";
import {
  categoryMask,
  categoryOptions,
  categorySubtree,
  categoryTree,
  createProductRequest,
  duplicateFieldOf,
  existingProductOf,
  formFieldOf,
  isDecimal,
  isPercent,
  isStale,
  productFilter,
  productMask,
  productValues,
  statusRequest,
  trimDecimal,
  unitConversions,
  unitRows,
  updateProductRequest,
  warehouseMask,
  warehouseOf,
  warehouseValues,
} from "./logic";

const cat = (id: string, parentId: string, name: string, pathName: string) => create(CategorySchema, { id, parentId, name, pathName });

describe("the category tree", () => {
  const flat = [
    cat("p", "e", "Phones", "Electronics / Phones"),
    cat("e", "", "Electronics", "Electronics"),
    cat("a", "e", "Audio", "Electronics / Audio"),
    cat("s", "p", "Smart", "Electronics / Phones / Smart"),
    cat("o", "gone", "Orphan", "Orphan"),
    cat("b", "", "Books", "Books"),
  ];

  it("nests children under parents, siblings by name, orphans at the top", () => {
    const tree = categoryTree(flat);
    expect(tree.map((n) => n.key)).toEqual(["b", "e", "o"]);
    const electronics = tree[1];
    expect(electronics.title).toBe("Electronics");
    expect(electronics.children?.map((n) => n.key)).toEqual(["a", "p"]);
    expect(electronics.children?.[1].children?.map((n) => n.key)).toEqual(["s"]);
    expect(electronics.children?.[0].children).toBeUndefined();
  });

  it("never offers a category or one below it as its new parent", () => {
    expect([...categorySubtree(flat, "e")].sort()).toEqual(["a", "e", "p", "s"]);
    expect([...categorySubtree(flat, "s")]).toEqual(["s"]);
    expect(categoryOptions(flat, categorySubtree(flat, "p")).map((o) => o.label)).toEqual(["Books", "Electronics", "Electronics / Audio", "Orphan"]);
  });

  it("masks only what changed", () => {
    const c = flat[0];
    expect(categoryMask(c, { name: "Phones", parentId: "e" })).toEqual([]);
    expect(categoryMask(c, { name: "Mobiles", parentId: "" })).toEqual(["name", "parent_id"]);
  });
});

describe("the product form", () => {
  const product = create(ProductSchema, {
    id: "p1",
    code: "BOLT-1",
    name: "Bolt",
    unit: "pcs",
    units: [{ name: "box", factor: "12.0000" }],
    salePrice: { currencyCode: "CNY", amount: "5.00" },
    standardCost: { currencyCode: "CNY", amount: "1.50" },
    taxRate: "13",
    warrantyMonths: 0,
    status: ProductStatus.ACTIVE,
    etag: "v3",
  });

  it("turns unit rows into conversions: trimmed, empty rows dropped", () => {
    expect(unitConversions([{ name: " box ", factor: " 12 " }, { name: "", factor: "" }, {}, { name: "pallet", factor: "480" }])).toEqual([
      { name: "box", factor: "12" },
      { name: "pallet", factor: "480" },
    ]);
    expect(unitConversions(undefined)).toEqual([]);
    expect(unitRows(product.units)).toEqual([{ name: "box", factor: "12.0000" }]);
  });

  it("builds the create request, money without a currency (the service's base one)", () => {
    const request = createProductRequest({ code: " B-2 ", name: "Nut", unit: "pcs", units: [{ name: "box", factor: "12" }], salePrice: "3.5", standardCost: "" }, "r1");
    expect(request.requestId).toBe("r1");
    expect(request.product).toMatchObject({ code: "B-2", name: "Nut", unit: "pcs", units: [{ name: "box", factor: "12" }], salePrice: { currencyCode: "", amount: "3.5" } });
    expect(request.product?.standardCost).toBeUndefined();
  });

  it("masks only the changed fields; equal decimals are unchanged", () => {
    const same = productValues(product);
    expect(productMask(product, same)).toEqual([]);
    expect(productMask(product, { ...same, salePrice: "5", taxRate: "13.00", units: [{ name: "box", factor: "12" }] })).toEqual([]);
    expect(productMask(product, { ...same, name: "Bolt M6", units: [{ name: "box", factor: "10" }], standardCost: "1.6", warrantyMonths: 12 })).toEqual([
      "name",
      "units",
      "standard_cost",
      "warranty_months",
    ]);
    expect(productMask(product, { ...same, tracking: Tracking.SERIAL })).toEqual(["tracking"]);
    expect(productMask(product, { ...same, units: [] })).toEqual(["units"]);
  });

  it("updates against the etag, or not at all", () => {
    expect(updateProductRequest(product, productValues(product))).toBeNull();
    const request = updateProductRequest(product, { ...productValues(product), brand: "ACME", salePrice: "" });
    expect(request?.updateMask).toEqual({ paths: ["brand", "sale_price"] });
    expect(request?.product).toMatchObject({ id: "p1", etag: "v3", brand: "ACME", salePrice: { currencyCode: "CNY", amount: "0" } });
    expect(statusRequest(product, ProductStatus.DISCONTINUED)).toEqual({
      product: { id: "p1", etag: "v3", status: ProductStatus.DISCONTINUED },
      updateMask: { paths: ["status"] },
    });
  });

  it("checks decimals and percentages as the service takes them", () => {
    expect(isDecimal("12")).toBe(true);
    expect(isDecimal("0.0001")).toBe(true);
    expect(isDecimal("")).toBe(true);
    expect(isDecimal("1.23456")).toBe(false);
    expect(isDecimal("-1")).toBe(false);
    expect(isDecimal("1,5")).toBe(false);
    expect(isPercent("13")).toBe(true);
    expect(isPercent("100")).toBe(true);
    expect(isPercent("100.5")).toBe(false);
    expect(isPercent("101")).toBe(false);
    expect(isPercent("0.5")).toBe(true);
    expect(trimDecimal("12.0000")).toBe("12");
    expect(trimDecimal("0.5000")).toBe("0.5");
    expect(trimDecimal("box")).toBe("box");
  });

  it("filters by status", () => {
    expect(productFilter("")).toBe("");
    expect(productFilter("active")).toBe('status = "active"');
  });
});

describe("violations on fields", () => {
  const known = ["code", "name", "unit", "units", "salePrice", "standardCost", "taxRate"];
  it("maps the service's field paths to the form's, list indexes kept", () => {
    expect(formFieldOf("product.units[1].factor", known)).toEqual(["units", 1, "factor"]);
    expect(formFieldOf("product.units[0]", known)).toEqual(["units", 0, "name"]);
    expect(formFieldOf("product.sale_price.amount", known)).toEqual(["salePrice"]);
    expect(formFieldOf("product.standard_cost.currency_code", known)).toEqual(["standardCost"]);
    expect(formFieldOf("product.tax_rate", known)).toEqual(["taxRate"]);
    expect(formFieldOf("code", known)).toEqual(["code"]);
    expect(formFieldOf("product.etag", known)).toBeNull();
    expect(formFieldOf("warehouse.keeper_ids[0]", ["keeperIds"])).toEqual(["keeperIds"]);
    expect(formFieldOf("product.units", known)).toEqual(["units"]);
  });
});

describe("refusals", () => {
  it("reads the existing product from an ALREADY_EXISTS refusal", () => {
    const refusal = (reason: string) =>
      new ConnectError("already exists", Code.AlreadyExists, undefined, [
        { desc: ErrorInfoSchema, value: { reason, domain: "crm", metadata: { existing_product_id: "p9", existing_product_code: "BOLT-1" } } },
      ]);
    expect(existingProductOf(refusal("DUPLICATE_PRODUCT_CODE"))).toEqual({ reason: "DUPLICATE_PRODUCT_CODE", productId: "p9", productCode: "BOLT-1", fields: ["code"] });
    expect(existingProductOf(refusal("DUPLICATE_PRODUCT"))?.fields).toEqual(["name", "specification"]);
    expect(existingProductOf(new ConnectError("no", Code.InvalidArgument))).toBeNull();
    expect(existingProductOf(new Error("x"))).toBeNull();
  });

  it("puts a duplicate category or warehouse on its field", () => {
    const dup = (reason: string) => new ConnectError("exists", Code.AlreadyExists, undefined, [{ desc: ErrorInfoSchema, value: { reason, domain: "crm" } }]);
    expect(duplicateFieldOf(dup("DUPLICATE_CATEGORY"))).toBe("name");
    expect(duplicateFieldOf(dup("DUPLICATE_WAREHOUSE_CODE"))).toBe("code");
    expect(duplicateFieldOf(dup("SOMETHING_ELSE"))).toBeNull();
    expect(duplicateFieldOf(new ConnectError("no", Code.InvalidArgument))).toBeNull();
  });

  it("tells a stale etag", () => {
    const stale = new ConnectError("changed by someone else", Code.Aborted, undefined, [{ desc: ErrorInfoSchema, value: { reason: "STALE_ETAG", domain: "crm" } }]);
    expect(isStale(stale)).toBe(true);
    expect(isStale(new ConnectError("no", Code.InvalidArgument))).toBe(false);
  });
});

describe("the warehouse form", () => {
  const w = create(WarehouseSchema, { id: "w1", code: "SH", name: "Shanghai", keeperIds: ["a", "b"], allowNegativeStock: false, etag: "v1" });
  it("masks only what changed, keepers regardless of order", () => {
    expect(warehouseMask(w, warehouseValues(w))).toEqual([]);
    expect(warehouseMask(w, { ...warehouseValues(w), keeperIds: ["b", "a"] })).toEqual([]);
    expect(warehouseMask(w, { ...warehouseValues(w), name: " Shanghai 2 ", keeperIds: ["a"], allowNegativeStock: true })).toEqual([
      "name",
      "keeper_ids",
      "allow_negative_stock",
    ]);
    expect(warehouseOf({ code: " X ", name: "Y", keeperIds: ["a", "a"] })).toEqual({ code: "X", name: "Y", address: "", keeperIds: ["a"], allowNegativeStock: false, remark: "" });
  });
});

describe("quantities", () => {
  it("are grouped as the language writes numbers, exactly", () => {
    expect(formatDecimal("en", "1234567.1250")).toBe("1,234,567.125");
    expect(formatDecimal("zh", "24")).toBe("24");
    expect(formatDecimal("en", "12345678901234567.0001")).toBe("12,345,678,901,234,567.0001");
    expect(formatDecimal("en", "n/a")).toBe("n/a");
  });
});
