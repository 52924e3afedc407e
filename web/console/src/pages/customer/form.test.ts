import { afterEach, describe, expect, it, vi } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ContactSchema, CustomerKind, CustomerSchema, CustomerStatus } from "../../gen/crm/customers/v1/customers_pb.js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  changedPaths,
  contactUpdateRequest,
  createRequest,
  debounce,
  duplicateProbe,
  existingCustomerOf,
  formFieldOf,
  updateRequest,
  valuesOf,
} from "./form";

const customer = create(CustomerSchema, {
  id: "c1",
  etag: "v3",
  kind: CustomerKind.COMPANY,
  name: "杭州测试科技有限公司",
  phone: "0571 8888 1234",
  levelCode: "B",
  status: CustomerStatus.POTENTIAL,
  region: { country: "CN", province: "浙江", city: "杭州", district: "" },
  tags: ["vip"],
});

describe("the update mask", () => {
  it("names only the fields that changed, nested ones by their path", () => {
    const edited = { ...valuesOf(customer), levelCode: "A", region: { ...valuesOf(customer).region, city: "宁波" } };
    expect(changedPaths(valuesOf(customer), edited)).toEqual(["region.city", "level_code"]);
  });

  it("treats trimmed and missing texts as unchanged, and sees tag changes", () => {
    const edited = { ...valuesOf(customer), name: " 杭州测试科技有限公司 ", remark: undefined, tags: ["vip", "key"] };
    expect(changedPaths(valuesOf(customer), edited)).toEqual(["tags"]);
  });

  it("builds the request with the id, the etag and the whole value of each masked field", () => {
    const request = updateRequest(customer, { ...valuesOf(customer), remark: "met at the fair", status: CustomerStatus.ACTIVE });
    expect(request?.updateMask).toEqual({ paths: ["status", "remark"] });
    expect(request?.customer).toMatchObject({ id: "c1", etag: "v3", remark: "met at the fair", status: CustomerStatus.ACTIVE, levelCode: "B" });
  });

  it("sends nothing when nothing changed", () => {
    expect(updateRequest(customer, valuesOf(customer))).toBeNull();
  });

  it("masks a contact's changed fields", () => {
    const contact = create(ContactSchema, { id: "k1", etag: "v1", name: "张三", mobile: "13600112233" });
    const request = contactUpdateRequest(contact, { name: "张三", mobile: "13600112244", isPrimary: true });
    expect(request?.updateMask).toEqual({ paths: ["mobile", "is_primary"] });
    expect(request?.contact).toMatchObject({ id: "k1", etag: "v1", mobile: "13600112244", isPrimary: true });
  });
});

describe("a new customer", () => {
  it("carries the primary contact of a company when it has a name, and the request id", () => {
    const request = createRequest(
      { kind: CustomerKind.COMPANY, name: " 杭州测试 ", phone: "0571 8888 1234", contact: { name: "张三", mobile: "13600112233" } },
      "req-1",
    );
    expect(request.requestId).toBe("req-1");
    expect(request.customer).toMatchObject({ name: "杭州测试", phone: "0571 8888 1234", primaryContact: { name: "张三", mobile: "13600112233" } });
  });

  it("leaves an unnamed contact out", () => {
    const request = createRequest({ kind: CustomerKind.COMPANY, name: "A", contact: { mobile: "136" } }, "r");
    expect(request.customer?.primaryContact).toBeUndefined();
  });
});

describe("violations on fields", () => {
  it("maps the service's field paths to the form's", () => {
    expect(formFieldOf("customer.name")).toEqual(["name"]);
    expect(formFieldOf("customer.region.city")).toEqual(["region", "city"]);
    expect(formFieldOf("customer.primary_contact.mobile")).toEqual(["contact", "mobile"]);
    expect(formFieldOf("follow_up.next_contact_time")).toEqual(["nextContactTime"]);
    expect(formFieldOf("to_owner_id")).toEqual(["toOwnerId"]);
    expect(formFieldOf("customer.tags[2]")).toEqual(["tags"]);
  });

  it("reads the existing customer from an ALREADY_EXISTS refusal", () => {
    const error = new ConnectError("a customer with the same name already exists", Code.AlreadyExists, undefined, [
      {
        desc: ErrorInfoSchema,
        value: {
          reason: "DUPLICATE_CUSTOMER",
          domain: "crm",
          metadata: { customer_id: "c9", customer_name: "杭州测试", owner_id: "e1", in_pool: "false", matched_on: "tax_id" },
        },
      },
    ]);
    expect(existingCustomerOf(error)).toEqual({ field: ["taxId"], customerId: "c9", customerName: "杭州测试", ownerId: "e1", inPool: false });
    expect(existingCustomerOf(new ConnectError("no", Code.InvalidArgument))).toBeNull();
  });
});

describe("the duplicate check", () => {
  it("asks once there is enough to match on", () => {
    expect(duplicateProbe({ name: "杭" })).toBeNull();
    expect(duplicateProbe({ name: "杭州" })).toEqual({ name: "杭州", phone: "", email: "", taxId: "" });
    expect(duplicateProbe({ name: "", phone: "0571" })).toBeNull();
    expect(duplicateProbe({ name: "", mobile: "136 0011" })).toEqual({ name: "", phone: "136 0011", email: "", taxId: "" });
    expect(duplicateProbe({ email: "a@b.cn " })?.email).toBe("a@b.cn");
  });

  afterEach(() => vi.useRealTimers());

  it("debounces: one call, 300 ms after the last keystroke, with the last value", () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    const settle = debounce((v: string) => seen.push(v), 300);
    settle("杭");
    vi.advanceTimersByTime(200);
    settle("杭州");
    vi.advanceTimersByTime(299);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(["杭州"]);
    settle("x");
    settle.cancel();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual(["杭州"]);
  });
});
