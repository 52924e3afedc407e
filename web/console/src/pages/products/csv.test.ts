import { describe, expect, it } from "vitest";
import { fileNameOf, withQuery } from "../../api/rest";
import { productExportUrl, productImportUrl } from "./csv";

describe("the product CSV routes", () => {
  it("uploads with the options in the query string", () => {
    expect(productImportUrl({ requestId: "r1", mode: "PRODUCT_IMPORT_MODE_UPDATE", sha256: "" })).toBe(
      "/v1/products:import?options.requestId=r1&options.mode=PRODUCT_IMPORT_MODE_UPDATE",
    );
  });

  it("exports the list's search", () => {
    expect(productExportUrl({ query: "", filter: "", categoryId: "" })).toBe("/v1/products:export");
    expect(productExportUrl({ query: "bolt", filter: 'status = "active"', categoryId: "c1" })).toBe(
      "/v1/products:export?query=bolt&filter=status+%3D+%22active%22&categoryId=c1",
    );
  });

  it("leaves empty parameters out and repeats lists", () => {
    expect(withQuery("/x", { a: "", b: 0, c: undefined, d: ["1", "2"], e: 5 })).toBe("/x?d=1&d=2&e=5");
    expect(fileNameOf('attachment; filename="products.csv"', "x.csv")).toBe("products.csv");
    expect(fileNameOf(null, "x.csv")).toBe("x.csv");
  });
});
