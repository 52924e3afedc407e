// Typed clients of the services, over gRPC-Web to the gateway (same origin), each call carrying
// the session's access token.

import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { CustomersService } from "../gen/crm/customers/v1/customers_pb.js";
import { IdentityService } from "../gen/crm/identity/v1/identity_pb.js";
import { SalesService } from "../gen/crm/sales/v1/sales_pb.js";
import { WarehouseService } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { session } from "./session.js";

const withToken: Interceptor = (next) => async (req) => {
  const s = session();
  if (s) req.header.set("authorization", `Bearer ${s.accessToken}`);
  return next(req);
};

const transport = createGrpcWebTransport({
  baseUrl: typeof window === "undefined" ? "http://127.0.0.1:8080" : window.location.origin,
  interceptors: [withToken],
});

export const customers = createClient(CustomersService, transport);
export const identity = createClient(IdentityService, transport);
export const sales = createClient(SalesService, transport);
export const warehouse = createClient(WarehouseService, transport);
