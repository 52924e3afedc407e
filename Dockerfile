# Builds one CRM binary (crm-<SERVICE>: identity, customers, sales, warehouse, or gateway) into a
# small non-root image:
#   docker build --build-arg SERVICE=customers -t crm/customers .
#   docker build --build-arg SERVICE=gateway -t crm/gateway .
# The runtime image has no shell and runs as uid 10001 with a read-only root filesystem.
# The gateway's image serves the web console: its built files (web/console/dist, committed and
# checked in CI to be what the sources build) are embedded in the binary at compile time, so the
# build needs no Node.js.
FROM rust:1-bookworm AS build
ARG SERVICE=customers
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p "crm-${SERVICE}" --bin "crm-${SERVICE}" \
 && cp "target/release/crm-${SERVICE}" /crm-service

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /crm-service /usr/local/bin/crm-service
USER 10001:10001
# The port is CRM_LISTEN's: 50051 identity, 50052 customers, 50053 sales, 50055 warehouse,
# 8080 gateway.
EXPOSE 50052
ENV CRM_LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/crm-service"]
