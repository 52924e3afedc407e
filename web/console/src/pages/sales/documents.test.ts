import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../api/rest";
import { uploadPath } from "./documents";

describe("project documents", () => {
  it("puts the document's fields and the digest in the upload's query", () => {
    const path = uploadPath("p 1", { name: "C:\\docs\\plan v2.pdf", type: "application/pdf" }, "ab12", "r-1", " Plan ");
    const url = new URL(path, "http://x");
    expect(url.pathname).toBe("/v1/projects/p%201/documents");
    expect(url.searchParams.get("document.fileName")).toBe("plan v2.pdf");
    expect(url.searchParams.get("document.contentType")).toBe("application/pdf");
    expect(url.searchParams.get("document.description")).toBe("Plan");
    expect(url.searchParams.get("declared.sha256")).toBe("ab12");
    expect(url.searchParams.get("requestId")).toBe("r-1");
    expect(new URL(uploadPath("p", { name: "a.bin", type: "" }, "x", "r"), "http://x").searchParams.has("document.contentType")).toBe(false);
  });

  it("hashes bytes as lower-case hex", async () => {
    const bytes = new TextEncoder().encode("abc");
    expect(await sha256Hex(bytes.buffer as ArrayBuffer)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
