//! End-to-end flows of the CRM: the whole suite started as `crm` starts it, called over gRPC
//! and through the gateway the way a client would. Cross-service flows join as services
//! arrive; the tests are in `tests/`.
