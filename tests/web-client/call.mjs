// A third-party gRPC-Web client calling the CRM through the gateway, as a browser app would:
// Connect for the web (@connectrpc/connect-web) with the contracts read at run time from a
// binary FileDescriptorSet (`buf build -o crm.binpb` at the repository root), so nothing here is
// generated and the client sees exactly what the contracts say.
//
//   node tests/web-client/call.mjs crm.binpb
//
// Environment: CRM_ADMIN_PASSWORD (the administrator's password, required), CRM_GATEWAY_URL
// (default http://127.0.0.1:8080). Signs in over REST, then over gRPC-Web creates a customer,
// reads it back, finds it by search, and checks that a call without a token is refused as
// UNAUTHENTICATED. Exits non-zero on any failure.

import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, fromJson, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

const SERVICE = "crm.customers.v1.CustomersService";

class CheckFailed extends Error {}

function check(ok, what) {
  if (!ok) {
    throw new CheckFailed(`check failed: ${what}`);
  }
}

async function signIn(baseUrl, password) {
  // Sign-in is a public call, which the gateway limits per address: when the examples before
  // this one used the budget up, wait as long as Retry-After says, as a browser client would.
  let response;
  for (let attempt = 1; ; attempt++) {
    response = await fetch(`${baseUrl}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ login: "admin", password }),
    });
    if (response.status !== 429 || attempt === 5) {
      break;
    }
    const seconds = Number(response.headers.get("retry-after") ?? "1");
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, seconds) * 1000));
  }
  const body = await response.text();
  check(response.ok, `POST /v1/auth/login answered ${response.status}: ${body}`);
  const signedIn = JSON.parse(body);
  const token = signedIn.tokens?.accessToken;
  check(typeof token === "string" && token.length > 0, `an access token in ${body}`);
  return { token, employeeId: signedIn.employee?.id };
}

async function main() {
  const [descriptorSetPath] = process.argv.slice(2);
  if (!descriptorSetPath) {
    throw new Error("usage: node call.mjs <descriptor set .binpb>");
  }
  const password = process.env.CRM_ADMIN_PASSWORD;
  if (!password) {
    throw new Error("CRM_ADMIN_PASSWORD must hold the administrator's password");
  }
  const baseUrl = (process.env.CRM_GATEWAY_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");

  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath)));
  const service = registry.getService(SERVICE);
  check(service !== undefined, `${SERVICE} in ${descriptorSetPath}`);
  const method = (name) => {
    const m = service.methods.find((m) => m.name === name);
    check(m !== undefined, `${SERVICE}/${name} in the descriptor set`);
    return m;
  };
  // Requests are built from proto3 JSON, and responses printed as it, through the registry.
  const request = (name, json) => fromJson(method(name).input, json, { registry });
  const show = (name, message) => JSON.stringify(toJson(method(name).output, message, { registry }));
  console.log(`web client: ${SERVICE} read from ${descriptorSetPath} (${service.methods.length} methods)`);

  const { token, employeeId } = await signIn(baseUrl, password);
  console.log(`web client: signed in as admin over REST (POST ${baseUrl}/v1/auth/login)`);

  const transport = createGrpcWebTransport({
    baseUrl,
    defaultTimeoutMs: 15_000,
    interceptors: [
      (next) => async (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      },
    ],
  });
  const client = createClient(service, transport);

  const tag = `wc${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const name = `Webclient ${tag} Trading`;
  const created = await client.createCustomer(
    request("CreateCustomer", { customer: { kind: "CUSTOMER_KIND_COMPANY", name } }),
  );
  console.log(`web client: CreateCustomer over gRPC-Web -> ${show("CreateCustomer", created)}`);
  const customer = created.customer;
  check(customer !== undefined && customer.id !== "", "CreateCustomer returns the customer with an id");
  check(customer.name === name, `CreateCustomer returns the name ${JSON.stringify(name)}, got ${JSON.stringify(customer.name)}`);
  check(
    toJson(method("CreateCustomer").output, created, { registry }).customer.kind === "CUSTOMER_KIND_COMPANY",
    "the created customer is a company",
  );
  if (employeeId) {
    check(customer.ownerId === employeeId, `the signed-in administrator (${employeeId}) owns it, not ${customer.ownerId}`);
  }

  const got = await client.getCustomer(request("GetCustomer", { id: customer.id }));
  console.log(`web client: GetCustomer ${customer.id} -> ${got.customer?.name}`);
  check(got.customer?.id === customer.id, "GetCustomer returns the same customer");
  check(got.customer?.name === name, `GetCustomer returns the name ${JSON.stringify(name)}, got ${JSON.stringify(got.customer?.name)}`);

  const listed = await client.listCustomers(request("ListCustomers", { query: tag }));
  const names = listed.customers.map((c) => c.name);
  console.log(`web client: ListCustomers query=${tag} -> ${JSON.stringify(names)}`);
  check(listed.customers.length === 1, `ListCustomers finds exactly the new customer, got ${JSON.stringify(names)}`);
  check(listed.customers[0].id === customer.id && names[0] === name, "ListCustomers returns the new customer");

  const anonymous = createClient(service, createGrpcWebTransport({ baseUrl, defaultTimeoutMs: 15_000 }));
  let refusal;
  try {
    await anonymous.listCustomers(request("ListCustomers", {}));
  } catch (e) {
    refusal = ConnectError.from(e);
  }
  check(refusal !== undefined, "ListCustomers without a token is refused");
  check(
    refusal.code === Code.Unauthenticated,
    `ListCustomers without a token is UNAUTHENTICATED, got ${Code[refusal.code]}: ${refusal.rawMessage}`,
  );
  console.log(`web client: ListCustomers without a token -> ${Code[refusal.code]} (${refusal.rawMessage})`);
  console.log("web client: ok");
}

try {
  await main();
} catch (e) {
  const why =
    e instanceof CheckFailed ? e.message : e instanceof ConnectError ? `${Code[e.code]}: ${e.rawMessage}` : (e?.stack ?? e);
  console.error(`web client: FAILED: ${why}`);
  process.exitCode = 1;
}
