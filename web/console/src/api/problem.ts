// What a refused call says, in one shape for REST answers (Google's JSON error form) and
// gRPC-Web errors: the message, the code, and each field violation with its path and reason,
// so a screen shows them instead of going blank.

import { ConnectError } from "@connectrpc/connect";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";

export interface Violation {
  field: string;
  reason: string;
  description: string;
}

export class Problem extends Error {
  constructor(
    message: string,
    /** The HTTP status (0 for a gRPC-Web call). */
    readonly status: number,
    /** The gRPC code's name (`INVALID_ARGUMENT`). */
    readonly code: string,
    readonly violations: Violation[],
  ) {
    super(message);
  }
}

type Json = Record<string, JsonValue>;

function object(v: JsonValue | undefined): Json {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}

/** A REST answer's error body (`{"error": {code, message, status, details}}`) as a [`Problem`]. */
export function problemOf(status: number, body: JsonValue): Problem {
  const error = object(object(body)["error"]);
  const violations: Violation[] = [];
  const details = error["details"];
  if (Array.isArray(details)) {
    for (const detail of details) {
      const d = object(detail);
      if (d["@type"] === "type.googleapis.com/google.rpc.BadRequest") {
        const { ["@type"]: _, ...rest } = d;
        const bad = fromJson(BadRequestSchema, rest, { ignoreUnknownFields: true });
        for (const v of bad.fieldViolations) {
          violations.push({ field: v.field, reason: v.reason, description: v.description });
        }
      }
    }
  }
  const message = typeof error["message"] === "string" ? error["message"] : `HTTP ${status}`;
  return new Problem(message, status, typeof error["status"] === "string" ? error["status"] : "", violations);
}

/** A gRPC-Web error as a [`Problem`], with the `BadRequest` details the service sent. */
export function problemFromError(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof ConnectError) {
    const violations = error
      .findDetails(BadRequestSchema)
      .flatMap((bad) => bad.fieldViolations)
      .map((v) => ({ field: v.field, reason: v.reason, description: v.description }));
    return new Problem(error.rawMessage || error.message, 0, String(error.code), violations);
  }
  return new Problem(error instanceof Error ? error.message : String(error), 0, "", []);
}
