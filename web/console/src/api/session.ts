// The signed-in session: tokens kept in memory only (never in storage a script could read
// later), the access token refreshed a minute before it expires, sign-out revoking the refresh
// token. Sign-in, refresh and sign-out go through the gateway's REST routes with bodies built
// and read by the generated message types.

import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import {
  RefreshTokenRequestSchema,
  RefreshTokenResponseSchema,
  SignInRequestSchema,
  SignInResponseSchema,
  SignOutRequestSchema,
  type Employee,
  type Tokens,
} from "../gen/crm/identity/v1/identity_pb.js";
import { problemOf, type Problem } from "./problem.js";

export interface Session {
  accessToken: string;
  employee: Employee | undefined;
  /** Permission patterns from the token (`customers.customer.read`, `sales.*.*`, `*`). */
  permissions: string[];
  roles: string[];
}

type Listener = (session: Session | null) => void;

let current: Session | null = null;
let refreshToken = "";
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<Listener>();

export function session(): Session | null {
  return current;
}

export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function publish(next: Session | null) {
  current = next;
  for (const l of listeners) l(next);
}

/** The claims of a JWT's payload (not verified: the services verify; this only reads menus). */
export function claimsOf(token: string): { permissions: string[]; roles: string[] } {
  const part = token.split(".")[1] ?? "";
  try {
    const json = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    return {
      permissions: Array.isArray(json.perms) ? json.perms : [],
      roles: Array.isArray(json.roles) ? json.roles : [],
    };
  } catch {
    return { permissions: [], roles: [] };
  }
}

async function post(path: string, body: JsonValue): Promise<JsonValue> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as JsonValue) : {};
  if (!response.ok) {
    throw problemOf(response.status, json);
  }
  return json;
}

function adopt(tokens: Tokens | undefined, employee: Employee | undefined) {
  if (!tokens) throw new Error("the answer carried no tokens");
  refreshToken = tokens.refreshToken;
  const claims = claimsOf(tokens.accessToken);
  publish({ accessToken: tokens.accessToken, employee: employee ?? current?.employee, ...claims });
  clearTimeout(refreshTimer);
  const expires = tokens.accessTokenExpireTime
    ? Number(tokens.accessTokenExpireTime.seconds) * 1000
    : Date.now() + 15 * 60 * 1000;
  const due = Math.max(5_000, expires - Date.now() - 60_000);
  refreshTimer = setTimeout(() => {
    void refresh().catch(() => publish(null));
  }, due);
}

export async function signIn(login: string, password: string): Promise<void> {
  const body = toJson(SignInRequestSchema, create(SignInRequestSchema, { login, password }));
  const answer = fromJson(SignInResponseSchema, await post("/v1/auth/login", body), { ignoreUnknownFields: true });
  adopt(answer.tokens, answer.employee);
}

export async function refresh(): Promise<void> {
  const body = toJson(RefreshTokenRequestSchema, create(RefreshTokenRequestSchema, { refreshToken }));
  const answer = fromJson(RefreshTokenResponseSchema, await post("/v1/auth/refresh", body), {
    ignoreUnknownFields: true,
  });
  adopt(answer.tokens, undefined);
}

export async function signOut(): Promise<void> {
  clearTimeout(refreshTimer);
  const token = refreshToken;
  refreshToken = "";
  publish(null);
  if (token) {
    const body = toJson(SignOutRequestSchema, create(SignOutRequestSchema, { refreshToken: token }));
    await post("/v1/auth/logout", body).catch((e: Problem) => e);
  }
}

/** Whether the session holds permission `needed` (`customers.customer.read`). */
export function allows(s: Session | null, needed: string): boolean {
  return !!s && s.permissions.some((granted) => permissionMatches(granted, needed));
}

/**
 * Whether pattern `granted` covers `needed`: segments may be `*`, and `*` alone grants
 * everything (the rule the services apply, `crm_kit::auth::permission_matches`).
 */
export function permissionMatches(granted: string, needed: string): boolean {
  if (granted === "*") return true;
  const g = granted.split(".");
  const n = needed.split(".");
  return g.length === n.length && g.every((part, i) => part === "*" || part === n[i]);
}
