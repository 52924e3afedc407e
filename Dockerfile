# Builds one CRM service binary into a small non-root image:
#   docker build --build-arg SERVICE=customers -t crm/customers .
# The runtime image has no shell and runs as uid 10001 with a read-only root filesystem.
FROM rust:1-bookworm AS build
ARG SERVICE=customers
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p "crm-${SERVICE}" --bin "crm-${SERVICE}" \
 && cp "target/release/crm-${SERVICE}" /crm-service

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /crm-service /usr/local/bin/crm-service
USER 10001:10001
EXPOSE 50052
ENV CRM_LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/crm-service"]
