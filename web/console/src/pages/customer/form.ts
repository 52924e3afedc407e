// The customer forms' logic, kept out of the components so it is tested on its own: form values
// from a customer and back, the update mask from the fields a person changed, the form field a
// service violation names, the duplicate check's request from what is typed, and a debounce.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import {
  CustomerKind,
  CustomerStatus,
  Gender,
  type CheckDuplicatesRequestSchema,
  type Contact,
  type ContactSchema,
  type CreateCustomerRequestSchema,
  type Customer,
  type CustomerSchema,
  type UpdateContactRequestSchema,
  type UpdateCustomerRequestSchema,
} from "../../gen/crm/customers/v1/customers_pb.js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";

export interface RegionValues {
  country?: string;
  province?: string;
  city?: string;
  district?: string;
}

/** The primary contact typed with a new customer. */
export interface ContactValues {
  name?: string;
  title?: string;
  department?: string;
  mobile?: string;
  phone?: string;
  email?: string;
  birthday?: string;
  isPrimary?: boolean;
  remark?: string;
}

/** What the customer form holds (names follow the message's fields, lowerCamel). */
export interface CustomerValues {
  kind: CustomerKind;
  name: string;
  shortName?: string;
  taxId?: string;
  industryCode?: string;
  scale?: string;
  website?: string;
  region?: RegionValues;
  address?: string;
  phone?: string;
  mobile?: string;
  email?: string;
  gender?: Gender;
  birthday?: string;
  categoryId?: string;
  typeCode?: string;
  levelCode?: string;
  sourceCode?: string;
  status?: CustomerStatus;
  remark?: string;
  tags?: string[];
  /** Only on a new customer: its primary contact. */
  contact?: ContactValues;
}

/** A customer message as an object literal (not a built message). */
type CustomerInit = Exclude<MessageInitShape<typeof CustomerSchema>, Customer>;
type ContactInit = Exclude<MessageInitShape<typeof ContactSchema>, Contact>;

const text = (v: string | undefined) => (v ?? "").trim();

/** The form's values for an existing customer. */
export function valuesOf(c: Customer): CustomerValues {
  return {
    kind: c.kind,
    name: c.name,
    shortName: c.shortName,
    taxId: c.taxId,
    industryCode: c.industryCode,
    scale: c.scale,
    website: c.website,
    region: {
      country: c.region?.country ?? "",
      province: c.region?.province ?? "",
      city: c.region?.city ?? "",
      district: c.region?.district ?? "",
    },
    address: c.address,
    phone: c.phone,
    mobile: c.mobile,
    email: c.email,
    gender: c.gender,
    birthday: c.birthday,
    categoryId: c.categoryId,
    typeCode: c.typeCode,
    levelCode: c.levelCode,
    sourceCode: c.sourceCode,
    status: c.status,
    remark: c.remark,
    tags: [...c.tags],
  };
}

/** The customer message for the form's values (texts trimmed; the contact left out). */
export function customerOf(values: CustomerValues): CustomerInit {
  return {
    kind: values.kind,
    name: text(values.name),
    shortName: text(values.shortName),
    taxId: text(values.taxId),
    industryCode: values.industryCode ?? "",
    scale: text(values.scale),
    website: text(values.website),
    region: {
      country: text(values.region?.country),
      province: text(values.region?.province),
      city: text(values.region?.city),
      district: text(values.region?.district),
    },
    address: text(values.address),
    phone: text(values.phone),
    mobile: text(values.mobile),
    email: text(values.email),
    gender: values.gender ?? Gender.UNSPECIFIED,
    birthday: text(values.birthday),
    categoryId: values.categoryId ?? "",
    typeCode: values.typeCode ?? "",
    levelCode: values.levelCode ?? "",
    sourceCode: values.sourceCode ?? "",
    status: values.status ?? CustomerStatus.UNSPECIFIED,
    remark: text(values.remark),
    tags: (values.tags ?? []).map((t) => t.trim()).filter((t) => t !== ""),
  };
}

function contactOf(values: ContactValues | undefined): ContactInit | undefined {
  if (!values || text(values.name) === "") return undefined;
  return {
    name: text(values.name),
    title: text(values.title),
    department: text(values.department),
    mobile: text(values.mobile),
    phone: text(values.phone),
    email: text(values.email),
    birthday: text(values.birthday),
    remark: text(values.remark),
    isPrimary: values.isPrimary ?? false,
  };
}

/** The CreateCustomer request for a new customer's form (the contact when it has a name). */
export function createRequest(values: CustomerValues, requestId: string): MessageInitShape<typeof CreateCustomerRequestSchema> {
  const primaryContact = values.kind === CustomerKind.INDIVIDUAL ? undefined : contactOf(values.contact);
  return { customer: { ...customerOf(values), primaryContact }, requestId };
}

/** lowerCamel → snake_case (`levelCode` → `level_code`). */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** snake_case → lowerCamel (`level_code` → `levelCode`). */
export function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

type Flat = Map<string, string>;

function flatten(prefix: string, value: unknown, into: Flat) {
  if (Array.isArray(value)) {
    into.set(prefix, JSON.stringify(value.map((v) => String(v).trim())));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      flatten(prefix ? `${prefix}.${snake(k)}` : snake(k), v, into);
    }
  } else if (typeof value === "string") {
    into.set(prefix, value.trim());
  } else if (value === undefined || value === null) {
    into.set(prefix, "");
  } else {
    into.set(prefix, String(value));
  }
}

/**
 * The field-mask paths (snake_case, `region.city`) whose values differ between the original
 * and the edited form values; only the fields the edited values hold are compared, empty and
 * missing texts are the same.
 */
export function changedPaths(original: object, edited: object): string[] {
  const before: Flat = new Map();
  const after: Flat = new Map();
  flatten("", original, before);
  flatten("", edited, after);
  const paths: string[] = [];
  for (const [path, value] of after) {
    const old = before.get(path) ?? "";
    if (old !== value && !(old === "[]" && value === "") && !(old === "" && value === "[]")) paths.push(path);
  }
  return paths;
}

/** The UpdateCustomer request for the edited form, or null when nothing changed. */
export function updateRequest(customer: Customer, edited: CustomerValues): MessageInitShape<typeof UpdateCustomerRequestSchema> | null {
  const { contact: _, ...fields } = edited;
  const paths = changedPaths(valuesOf(customer), fields);
  if (paths.length === 0) return null;
  return {
    customer: { ...customerOf({ ...valuesOf(customer), ...fields }), id: customer.id, etag: customer.etag },
    updateMask: { paths },
  };
}

/** The form's values for an existing contact. */
export function contactValuesOf(c: Contact): ContactValues {
  return {
    name: c.name,
    title: c.title,
    department: c.department,
    mobile: c.mobile,
    phone: c.phone,
    email: c.email,
    birthday: c.birthday,
    isPrimary: c.isPrimary,
    remark: c.remark,
  };
}

/** The contact message for a new contact of `customerId`. */
export function newContact(customerId: string, values: ContactValues): ContactInit {
  return { ...contactOf({ ...values, name: values.name ?? "" }), name: text(values.name), customerId };
}

/** The UpdateContact request for the edited contact form, or null when nothing changed. */
export function contactUpdateRequest(
  contact: Contact,
  edited: ContactValues,
): MessageInitShape<typeof UpdateContactRequestSchema> | null {
  const paths = changedPaths(contactValuesOf(contact), edited);
  if (paths.length === 0) return null;
  return {
    contact: { ...contactOf({ ...contactValuesOf(contact), ...edited, name: edited.name ?? contact.name }), id: contact.id, etag: contact.etag },
    updateMask: { paths },
  };
}

/**
 * The form field (a name path) a violation's field names: the request's message prefix
 * dropped (`customer.`, `contact.`, `follow_up.`), the primary contact is the form's `contact`,
 * snake_case turned lowerCamel (`customer.region.city` → `["region", "city"]`).
 */
export function formFieldOf(field: string): string[] {
  const parts = field.split(".").filter((p) => p !== "");
  if (parts.length > 1 && ["customer", "contact", "follow_up", "followUp"].includes(parts[0])) parts.shift();
  return parts.map((p) => (p === "primary_contact" || p === "primaryContact" ? "contact" : camel(p.replace(/\[.*\]$/, ""))));
}

/** The existing customer an ALREADY_EXISTS refusal of CreateCustomer names. */
export interface ExistingCustomer {
  /** The form field it matched on. */
  field: string[];
  customerId: string;
  customerName: string;
  ownerId: string;
  inPool: boolean;
}

const MATCHED_ON: Record<string, string[]> = {
  name: ["name"],
  tax_id: ["taxId"],
  mobile: ["mobile"],
  phone: ["phone"],
  email: ["email"],
};

/** What an ALREADY_EXISTS refusal says about the customer it matched (null for others). */
export function existingCustomerOf(error: unknown): ExistingCustomer | null {
  if (!(error instanceof ConnectError)) return null;
  const info = error.findDetails(ErrorInfoSchema).find((d) => d.reason === "DUPLICATE_CUSTOMER");
  if (!info) return null;
  const m = info.metadata;
  return {
    field: MATCHED_ON[m["matched_on"] ?? ""] ?? ["name"],
    customerId: m["customer_id"] ?? "",
    customerName: m["customer_name"] ?? "",
    ownerId: m["owner_id"] ?? "",
    inPool: m["in_pool"] === "true",
  };
}

/**
 * The duplicate check for what is typed so far, or null when there is too little to check:
 * a name of two characters or more, a phone (or mobile) of five digits or more, an email or a
 * tax id.
 */
export function duplicateProbe(values: Partial<CustomerValues>): MessageInitShape<typeof CheckDuplicatesRequestSchema> | null {
  const name = text(values.name);
  const phone = text(values.phone) || text(values.mobile);
  const email = text(values.email);
  const taxId = text(values.taxId);
  const digits = phone.replace(/\D/g, "").length;
  const probe = {
    name: [...name].length >= 2 ? name : "",
    phone: digits >= 5 ? phone : "",
    email: email.includes("@") ? email : "",
    taxId,
  };
  if (!probe.name && !probe.phone && !probe.email && !probe.taxId) return null;
  return probe;
}

/** `fn` called `ms` after the last of a burst of calls, with that call's arguments. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const debounced = (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
